// An assembly file lets the package declare getAuxv without a body (the
// body is the runtime's, through go:linkname).
