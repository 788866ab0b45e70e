// Command portable prints what the target it runs on looks like.
package main

import (
	"flag"
	"fmt"
	"runtime"

	"example.com/portable/sizes"
	"example.com/portable/wire"
)

func main() {
	greet := flag.String("greet", "hi", "what to say")
	flag.Parse()
	fmt.Printf("%s from %s/%s: int is %d bits, length prefix 01000000 reads %d\n",
		*greet, runtime.GOOS, runtime.GOARCH, sizes.IntBits(), wire.Length([]byte{1, 0, 0, 0}))
}
