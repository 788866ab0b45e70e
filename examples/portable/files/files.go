// Package files reads a file the tests keep in testdata/.
package files

import "os"

// Mode is the permission bits of path.
func Mode(path string) (os.FileMode, error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return st.Mode().Perm(), nil
}
