package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/glacier-pipeline/glacier"
)

// LineageNode is one dataset version in a lineage tree: where it came from
// and, for a task's output, the input versions the task read.
type LineageNode struct {
	Dataset string  `json:"dataset"`
	Version Version `json:"version"`
	// Source is the file the version was read from, for a source dataset.
	Source string `json:"source,omitempty"`
	// Task, Module and RunID name the run that produced the version.
	Task   string            `json:"task,omitempty"`
	Module string            `json:"module_sha256,omitempty"`
	RunID  string            `json:"run_id,omitempty"`
	Params map[string]string `json:"params,omitempty"`
	Inputs []*LineageNode    `json:"inputs,omitempty"`
	// Note explains a version whose origin is no longer recorded.
	Note string `json:"note,omitempty"`
	// Parts and PartsSize count, for a partitioned dataset, the parts of
	// the version (a list of them) and their bytes.
	Parts     int   `json:"parts,omitempty"`
	PartsSize int64 `json:"parts_size,omitempty"`
}

// Lineage returns how the current version of dataset was produced,
// recursively down to the sources.
func (s *Store) Lineage(p *glacier.Pipeline, dataset string) (*LineageNode, error) {
	v, err := s.Current(p, dataset)
	if err != nil {
		return nil, err
	}
	return s.lineage(p, dataset, v, 0), nil
}

func (s *Store) lineage(p *glacier.Pipeline, dataset string, v Version, depth int) *LineageNode {
	n := &LineageNode{Dataset: dataset, Version: v}
	d, _ := p.Dataset(dataset)
	if d.Partitioned {
		if parts, err := s.Parts(v); err == nil {
			n.Parts = len(parts)
			for _, part := range parts {
				n.PartsSize += part.Size
			}
		}
	}
	if d.Source != "" {
		n.Source = d.Source
		if ref, ok := s.SourceRef(p.Name(), dataset); !ok || ref.Version != v {
			n.Note = "an earlier version of the source file"
		}
		return n
	}
	prod, ok := p.Producer(dataset)
	if !ok || depth > 1000 {
		n.Note = "no task produces this dataset now"
		return n
	}
	e, ok := s.producedBy(p.Name(), prod.Name, dataset, v)
	if !ok {
		n.Note = fmt.Sprintf("no recorded run of task %q produced this version", prod.Name)
		return n
	}
	n.Task, n.Module, n.RunID, n.Params = e.Task, e.Module, e.RunID, e.Params
	names := make([]string, 0, len(e.Inputs))
	for name := range e.Inputs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		n.Inputs = append(n.Inputs, s.lineage(p, name, e.Inputs[name], depth+1))
	}
	return n
}

// producedBy finds the memo entry of a task run that wrote version v of
// dataset: the task's current ref if it matches, else the earliest of its
// recorded runs that did.
func (s *Store) producedBy(pipeline, task, dataset string, v Version) (MemoEntry, bool) {
	if ref, ok := s.TaskRef(pipeline, task); ok && ref.Outputs[dataset] == v {
		return ref, true
	}
	entries, err := s.state.Memos(context.Background(), task)
	if err != nil {
		return MemoEntry{}, false
	}
	var found MemoEntry
	for _, e := range entries {
		if e.Outputs[dataset] == v && (found.Key == "" || e.Time.Before(found.Time)) {
			found = e
		}
	}
	return found, found.Key != ""
}

// LatestRunOf returns the pipeline's newest run in which the task ran
// (not cached, skipped or never started) and the task's record in it.
func (s *Store) LatestRunOf(pipeline, task string) (RunRecord, TaskRecord, error) {
	ids, err := s.Runs()
	if err != nil {
		return RunRecord{}, TaskRecord{}, err
	}
	for _, id := range ids {
		rec, err := s.Run(id)
		if err != nil {
			continue // not a run record Glacier wrote whole; see Fsck
		}
		if rec.Pipeline != pipeline {
			continue
		}
		for _, tr := range rec.Tasks {
			if tr.Task == task && tr.Log != "" {
				return rec, tr, nil
			}
		}
		// A run killed before it recorded the task may still have its log.
		if _, err := os.Stat(filepath.Join(s.root, logPath(id, task))); err == nil {
			return rec, TaskRecord{Task: task, Status: TaskInterrupted, Log: logPath(id, task)}, nil
		}
	}
	return RunRecord{}, TaskRecord{}, fmt.Errorf("task %q has not run yet (cached runs keep no new log); run glacier run", task)
}

// OpenLog opens a task record's log.
func (s *Store) OpenLog(tr TaskRecord) (io.ReadCloser, error) {
	if tr.Log == "" {
		return nil, errors.New("the task did not run, so it has no log")
	}
	f, err := os.Open(filepath.Join(s.root, tr.Log))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("task %q wrote no log in that run", tr.Task)
	}
	return f, err
}

// PartLogs returns the keys of the parts of a map task that have a log in
// the run tr is from, sorted.
func (s *Store) PartLogs(tr TaskRecord) ([]string, error) {
	if tr.Log == "" || tr.Parts == nil {
		return nil, fmt.Errorf("task %q is not a map task that ran, so it has no logs by part", tr.Task)
	}
	root := filepath.Join(s.root, tr.Log)
	var keys []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".log") {
			return err
		}
		rel, err := filepath.Rel(root, strings.TrimSuffix(path, ".log"))
		keys = append(keys, filepath.ToSlash(rel))
		return err
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	slices.Sort(keys)
	return keys, err
}

// OpenPartLog opens the log of one part of a map task, from the run tr is
// from.
func (s *Store) OpenPartLog(tr TaskRecord, key string) (io.ReadCloser, error) {
	if err := glacier.CheckPartKey(key); err != nil {
		return nil, err
	}
	if tr.Log == "" || tr.Parts == nil {
		return nil, fmt.Errorf("task %q is not a map task that ran, so it has no logs by part", tr.Task)
	}
	f, err := os.Open(filepath.Join(s.root, tr.Log, filepath.FromSlash(key)+".log"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("part %q of task %q left no log in that run: it wrote nothing, or did not run", key, tr.Task)
	}
	return f, err
}
