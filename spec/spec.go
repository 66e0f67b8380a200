// Package spec holds the normative bundle format specification
// (bundle-format.md) and the language-neutral test vectors in vectors/.
// It has no code of its own; its test checks that the Go implementation
// gives every vector its expected outcome, and regenerates the vectors
// when run with -update:
//
//	go test ./spec -run TestVectors -update
package spec

//go:generate go test -run TestVectors -update .
