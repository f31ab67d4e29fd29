package host

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
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

// rows reads output of one record a line, split into fields; blank lines
// are skipped and an error names the tool and the line it was found on.
func rows[T any](b []byte, tool string, parse func(f []string, line string) (T, error)) ([]T, error) {
	var out []T
	sc := lines(b)
	n := 0
	for sc.Scan() {
		n++
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		v, err := parse(f, sc.Text())
		if err != nil {
			return nil, fmt.Errorf("read %s: line %d: %w", tool, n, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", tool, err)
	}
	return out, nil
}
