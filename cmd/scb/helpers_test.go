package main

import (
	"fmt"
	"os"
)

func fmtSscanOctal(s string, m *os.FileMode) (int, error) {
	var v uint32
	n, err := fmt.Sscanf(s, "%o", &v)
	*m = os.FileMode(v)
	return n, err
}
