package host

import (
	"bufio"
	"bytes"
)

// maxLine bounds the memory a single line of command output may take.
const maxLine = 1 << 20

// lines scans command output line by line, for every parser of this
// package. A line longer than maxLine comes out in pieces instead of ending
// the scan: one runaway line in an agent log must not hide the lines after it.
func lines(b []byte) *bufio.Scanner {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), maxLine)
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		adv, tok, err := bufio.ScanLines(data, atEOF)
		if adv == 0 && tok == nil && err == nil && len(data) >= maxLine {
			return len(data), data, nil
		}
		return adv, tok, err
	})
	return sc
}
