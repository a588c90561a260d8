// Package access is what the logs example's tasks share: a request as
// parse writes it, and a day's summary as daily writes it.
package access

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Hit is one request from an access log.
type Hit struct {
	Time   time.Time
	Method string
	Path   string
	Status int
	Bytes  int64
}

// ParseLine reads a line in the Common Log Format:
//
//	203.0.113.5 - - [01/Dec/2026:10:00:01 +0000] "GET /index.html HTTP/1.1" 200 5120
func ParseLine(line string) (Hit, error) {
	_, rest, ok := strings.Cut(line, " [")
	if !ok {
		return Hit{}, errors.New("no [time]")
	}
	stamp, rest, ok := strings.Cut(rest, "] \"")
	if !ok {
		return Hit{}, errors.New("no \"request\"")
	}
	t, err := time.Parse("02/Jan/2006:15:04:05 -0700", stamp)
	if err != nil {
		return Hit{}, fmt.Errorf("time %q: %v", stamp, err)
	}
	req, rest, ok := strings.Cut(rest, "\" ")
	if !ok {
		return Hit{}, errors.New("request not closed")
	}
	parts := strings.Fields(req)
	fields := strings.Fields(rest)
	if len(parts) != 3 || len(fields) != 2 {
		return Hit{}, errors.New("want \"METHOD PATH PROTOCOL\" STATUS BYTES")
	}
	status, err := strconv.Atoi(fields[0])
	if err != nil {
		return Hit{}, fmt.Errorf("status %q", fields[0])
	}
	var size int64
	if fields[1] != "-" {
		if size, err = strconv.ParseInt(fields[1], 10, 64); err != nil {
			return Hit{}, fmt.Errorf("bytes %q", fields[1])
		}
	}
	return Hit{Time: t.UTC(), Method: parts[0], Path: parts[1], Status: status, Bytes: size}, nil
}

// HitsHeader is the header of a day of hits as CSV.
var HitsHeader = []string{"time", "method", "path", "status", "bytes"}

// WriteHits writes hits as CSV, with HitsHeader.
func WriteHits(w io.Writer, hits []Hit) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(HitsHeader)
	for _, h := range hits {
		_ = cw.Write([]string{h.Time.Format(time.RFC3339), h.Method, h.Path, strconv.Itoa(h.Status), strconv.FormatInt(h.Bytes, 10)})
	}
	cw.Flush()
	return cw.Error()
}

// ReadHits reads what WriteHits wrote.
func ReadHits(r io.Reader) ([]Hit, error) {
	rows, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != strings.Join(HitsHeader, ",") {
		return nil, fmt.Errorf("want the header %s", strings.Join(HitsHeader, ","))
	}
	hits := make([]Hit, 0, len(rows)-1)
	for i, row := range rows[1:] {
		t, err1 := time.Parse(time.RFC3339, row[0])
		status, err2 := strconv.Atoi(row[3])
		size, err3 := strconv.ParseInt(row[4], 10, 64)
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, fmt.Errorf("row %d: %v", i+2, err)
		}
		hits = append(hits, Hit{Time: t, Method: row[1], Path: row[2], Status: status, Bytes: size})
	}
	return hits, nil
}

// Day is a day's summary.
type Day struct {
	Day      string     `json:"day"`
	Requests int        `json:"requests"`
	Errors   int        `json:"errors"` // status 500 and above
	Bytes    int64      `json:"bytes"`
	TopPaths []PathHits `json:"top_paths"`
}

// PathHits is how often a path was asked for.
type PathHits struct {
	Path string `json:"path"`
	Hits int    `json:"hits"`
}
