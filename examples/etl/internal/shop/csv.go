package shop

import (
	"encoding/csv"
	"io"
)

// CSVWriter writes a CSV dataset to a task's output.
type CSVWriter struct {
	*csv.Writer
	out io.WriteCloser
}

// NewCSVWriter returns a CSVWriter to out that has written the header row.
func NewCSVWriter(out io.WriteCloser, header []string) (*CSVWriter, error) {
	w := &CSVWriter{Writer: csv.NewWriter(out), out: out}
	if err := w.Write(header); err != nil {
		return nil, err
	}
	return w, nil
}

// Close writes out what is buffered and closes the output.
func (w *CSVWriter) Close() error {
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return w.out.Close()
}
