package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/build"
	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/internal/suggest"
	"github.com/glacier-pipeline/glacier/manifest"
	"github.com/glacier-pipeline/glacier/providers/local"
	"github.com/glacier-pipeline/glacier/store"

	// The schemes a deployed store lives under, configured from the
	// environment as the clouds' own CLIs are.
	_ "github.com/glacier-pipeline/glacier/providers/aws/s3store"
	_ "github.com/glacier-pipeline/glacier/providers/gcp/gcsstore"
)

// remoteUsage is --remote's usage on the commands that read a store.
const remoteUsage = "read the store at `URL` instead of .glacier/: a deployed pipeline's (s3://... or gs://..., from pulumi stack output state) or another checkout's (file:///path/to/.glacier)"

// remoteFlag adds --remote to cmd, with usage, storing its value in url.
func remoteFlag(cmd *cobra.Command, url *string, usage string) {
	cmd.Flags().StringVar(url, "remote", "", usage)
}

// openRemote loads the manifest and opens the deployed store of its
// pipeline whose state is at url.
func (g *Globals) openRemote(ctx context.Context, url string) (*manifest.Manifest, *store.Store, error) {
	m, err := g.LoadManifest(ctx)
	if err != nil {
		return nil, nil, err
	}
	s, err := store.Open(ctx, nil, url, m.Pipeline.Name())
	if err != nil {
		return nil, nil, fmt.Errorf("--remote %s: %w", url, err)
	}
	return m, s, nil
}

// remoteCurrent returns dataset's current version in the deployed store,
// and the run that made it ("" for a source, which a deployment uploads).
func remoteCurrent(ctx context.Context, s *store.Store, m *manifest.Manifest, dataset string) (v store.Version, runID string, ok bool, err error) {
	p := m.Pipeline
	prod, produced := p.Producer(dataset)
	if !produced {
		v, ok, err = s.Current(ctx, p.Name(), dataset, "")
		return v, "", ok, err
	}
	r, _, ok, err := s.Ref(ctx, p.Name(), prod.Name)
	if err != nil || !ok {
		return v, "", false, err
	}
	v, ok = r.Outputs[dataset]
	return v, r.RunID, ok, nil
}

// remoteDatasets lists the datasets' current versions in a deployed store.
func remoteDatasets(ctx context.Context, s *store.Store, m *manifest.Manifest) ([]DatasetInfo, error) {
	var infos []DatasetInfo
	for _, d := range m.Pipeline.Datasets() {
		info := DatasetInfo{Name: d.Name, Storage: d.Storage.StorageType(), Partitioned: d.Partitioned}
		if d.Source != "" {
			info.From = "source " + d.Source
		} else if prod, ok := m.Pipeline.Producer(d.Name); ok {
			info.From = "task " + prod.Name
		}
		v, run, ok, err := remoteCurrent(ctx, s, m, d.Name)
		if err != nil {
			return nil, err
		}
		if ok {
			info.Size, info.SHA256, info.RunID = v.Size, v.Digest, run
		}
		if ok && d.Partitioned {
			// The version is the list of parts.
			parts, err := s.Parts(ctx, d.Name, v)
			if err != nil {
				return nil, err
			}
			info.Parts, info.Size = len(parts), 0
			for _, p := range parts {
				info.Size += p.Size
			}
		}
		infos = append(infos, info)
	}
	return infos, nil
}

// remoteCat writes dataset's current version in a deployed store to w:
// for a partitioned dataset the keys of its parts, one a line, or with
// part the bytes of that part.
func remoteCat(ctx context.Context, s *store.Store, m *manifest.Manifest, dataset, part string, w io.Writer) error {
	d, ok := m.Pipeline.Dataset(dataset)
	if !ok {
		return fmt.Errorf("pipeline %q has no dataset %q; glacier datasets lists them", m.Pipeline.Name(), dataset)
	}
	if part != "" && !d.Partitioned {
		return fmt.Errorf("dataset %q is not partitioned, so it has no parts; leave out --part", dataset)
	}
	v, _, ok, err := remoteCurrent(ctx, s, m, dataset)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("dataset %q has no version in the deployed store yet: run the pipeline there first", dataset)
	}
	if d.Partitioned {
		parts, err := s.Parts(ctx, dataset, v)
		if err != nil {
			return err
		}
		if part == "" {
			for _, p := range parts {
				fmt.Fprintln(w, p.Key)
			}
			return nil
		}
		i, found := slices.BinarySearchFunc(parts, part, func(p fnspec.Part, k string) int { return strings.Compare(p.Key, k) })
		if !found {
			keys := make([]string, len(parts))
			for i, p := range parts {
				keys[i] = p.Key
			}
			return fmt.Errorf("dataset %q has no part %q%s; glacier cat --remote URL %s lists its parts", dataset, part, suggest.DidYouMean(part, keys), dataset)
		}
		v = parts[i].Version
	}
	return copyVersion(ctx, s, dataset, v, w)
}

// copyVersion writes version v of dataset in s to w, checked by digest.
func copyVersion(ctx context.Context, s *store.Store, dataset string, v store.Version, w io.Writer) error {
	r, err := s.Read(ctx, dataset, v)
	if err != nil {
		return err
	}
	defer r.Close()
	_, err = io.Copy(w, r)
	return err
}

// remoteRun is a run of a deployed pipeline, from its tasks' records.
type remoteRun struct {
	RunID    string          `json:"run_id"`
	Status   string          `json:"status"`
	Started  time.Time       `json:"started"`
	Duration time.Duration   `json:"duration_ns"`
	Tasks    []store.RunTask `json:"tasks"`
}

// remoteRuns returns the deployed store's runs of m's pipeline, newest
// first, at most limit (or only runID if it is set).
func remoteRuns(ctx context.Context, s *store.Store, m *manifest.Manifest, runID string, limit int) ([]remoteRun, error) {
	ids := []string{runID}
	if runID == "" {
		var err error
		if ids, err = s.Runs(ctx); err != nil {
			return nil, err
		}
	}
	var out []remoteRun
	for _, id := range ids {
		tasks, err := s.RunTasks(ctx, id)
		if err != nil {
			return nil, err
		}
		tasks = slices.DeleteFunc(tasks, func(t store.RunTask) bool {
			_, ok := m.Pipeline.Task(t.Task)
			return !ok
		})
		if len(tasks) == 0 {
			continue // another pipeline's
		}
		r := remoteRun{RunID: id, Status: "succeeded", Tasks: tasks}
		var end time.Time
		for _, t := range tasks {
			if !t.Start.IsZero() { // a skipped task never started
				if r.Started.IsZero() || t.Start.Before(r.Started) {
					r.Started = t.Start
				}
				if e := t.Start.Add(time.Duration(t.DurationMS) * time.Millisecond); e.After(end) {
					end = e
				}
			}
			if t.Status != "succeeded" && t.Status != "cached" {
				r.Status = t.Status
			}
		}
		r.Duration = end.Sub(r.Started)
		if out = append(out, r); len(out) == limit {
			break
		}
	}
	return out, nil
}

// printRemoteRuns prints runs as glacier runs does: one line a run, or,
// for one run asked for by id, one line a task.
func printRemoteRuns(g *Globals, runs []remoteRun, one bool) {
	if one {
		r := runs[0]
		fmt.Fprintf(g.IO.ErrOut, "run %s, started %s: %s\n", r.RunID, r.Started.Local().Format("2006-01-02 15:04:05"), r.Status)
		rows := [][]string{{"TASK", "STATUS", "TIME", "CACHED"}}
		for _, t := range r.Tasks {
			cached := "no"
			if t.Cached {
				cached = "yes"
			}
			rows = append(rows, []string{t.Task, t.Status, (time.Duration(t.DurationMS) * time.Millisecond).String(), cached})
		}
		fmt.Fprint(g.IO.Out, table(rows))
		return
	}
	rows := [][]string{{"RUN", "STATUS", "STARTED", "TIME", "TASKS"}}
	for _, r := range runs {
		counts := map[string]int{}
		for _, t := range r.Tasks {
			counts[t.Status]++
		}
		var parts []string
		for _, st := range slices.Sorted(maps.Keys(counts)) {
			parts = append(parts, fmt.Sprintf("%d %s", counts[st], st))
		}
		rows = append(rows, []string{r.RunID, r.Status, r.Started.Local().Format("2006-01-02 15:04:05"),
			r.Duration.Round(time.Millisecond).String(), strings.Join(parts, ", ")})
	}
	fmt.Fprint(g.IO.Out, table(rows))
}

// checkPush refuses to push the results of modules the deployment does not
// run: the cloud would never look them up, and a reader of the store would
// take them for the deployed tasks'.
func checkPush(mods []build.Module, deployed map[string]string) error {
	var errs []error
	for _, mod := range mods {
		switch d, ok := deployed[mod.Task]; {
		case !ok:
			errs = append(errs, fmt.Errorf("task %q is not deployed", mod.Task))
		case d != mod.SHA256:
			errs = append(errs, fmt.Errorf("task %q: the module built here is sha256:%s, the deployed one sha256:%s", mod.Task, short(mod.SHA256), short(d)))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("--push refused: %w; compile and deploy this project again (glacier compile, pulumi up), or leave out --push", errors.Join(errs...))
	}
	return nil
}

// push uploads to remote what each task of rec made or reused locally:
// its outputs' versions, then its memo entry, so the deployment's next
// execution finds the invocation cached. Refs and stable names are the
// deployment's, and are left alone. It returns how many tasks it pushed.
func push(ctx context.Context, m *manifest.Manifest, rec local.RunRecord, remote *store.Store) (int, error) {
	st, err := local.OpenStore(m.Dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, t := range rec.Tasks {
		if t.Remote || (t.Status != glacier.StatusSucceeded && t.Status != glacier.StatusCached) {
			continue
		}
		e, ok := st.TaskRef(m.Pipeline.Name(), t.Task)
		if !ok || e.Part != "" {
			continue
		}
		for name, v := range e.Outputs {
			if slices.Contains(e.Lists, name) {
				// The parts first, so the list never names a missing one.
				parts, err := st.Parts(v)
				if err != nil {
					return n, fmt.Errorf("task %q: output %q: %w", t.Task, name, err)
				}
				for _, p := range parts {
					if err := pushObject(ctx, st, remote, rec.RunID, t.Task, name, p.Version); err != nil {
						return n, fmt.Errorf("task %q: output %q, part %q: %w", t.Task, name, p.Key, err)
					}
				}
			}
			if err := pushObject(ctx, st, remote, rec.RunID, t.Task, name, v); err != nil {
				return n, fmt.Errorf("task %q: output %q: %w", t.Task, name, err)
			}
		}
		if task, _ := m.Pipeline.Task(t.Task); task.Map != "" {
			// Each part's entry too, so that the deployment finds a part
			// that did not change once others have.
			parts, err := st.PartEntries(m.Pipeline, task, e)
			if err != nil {
				return n, fmt.Errorf("task %q: %w", t.Task, err)
			}
			for _, pe := range parts {
				if err := remote.PutMemo(ctx, pe); err != nil {
					return n, fmt.Errorf("task %q, part %q: %w", t.Task, pe.Part, err)
				}
			}
		}
		if err := remote.PutMemo(ctx, e); err != nil {
			return n, fmt.Errorf("task %q: %w", t.Task, err)
		}
		n++
	}
	return n, nil
}

// pushObject uploads the local store's version v of dataset to remote.
func pushObject(ctx context.Context, st *local.Store, remote *store.Store, runID, task, dataset string, v store.Version) error {
	f, err := os.Open(st.ObjectPath(v.Digest))
	if err != nil {
		return err
	}
	defer f.Close()
	return remote.PutObject(ctx, runID, task, dataset, v, f)
}

// remoteLineage is how dataset's current version in a deployed store was
// produced, recursively down to the sources, as glacier lineage shows it.
func remoteLineage(ctx context.Context, s *store.Store, m *manifest.Manifest, dataset string) (*local.LineageNode, error) {
	if _, ok := m.Pipeline.Dataset(dataset); !ok {
		return nil, fmt.Errorf("pipeline %q has no dataset %q; glacier datasets lists them", m.Pipeline.Name(), dataset)
	}
	v, _, ok, err := remoteCurrent(ctx, s, m, dataset)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("dataset %q has no version in the deployed store yet: run the pipeline there first", dataset)
	}
	return remoteNode(ctx, s, m, dataset, v, 0)
}

func remoteNode(ctx context.Context, s *store.Store, m *manifest.Manifest, dataset string, v store.Version, depth int) (*local.LineageNode, error) {
	p := m.Pipeline
	n := &local.LineageNode{Dataset: dataset, Version: v}
	d, _ := p.Dataset(dataset)
	if d.Source != "" {
		n.Source = d.Source
		if cur, ok, err := s.Current(ctx, p.Name(), dataset, ""); err != nil {
			return nil, err
		} else if !ok || cur != v {
			n.Note = "an earlier version of the source file"
		}
		return n, nil
	}
	prod, ok := p.Producer(dataset)
	if !ok || depth > 1000 {
		n.Note = "no task produces this dataset now"
		return n, nil
	}
	e, ok, err := remoteProducedBy(ctx, s, p.Name(), prod.Name, dataset, v)
	if err != nil {
		return nil, err
	}
	if !ok {
		n.Note = fmt.Sprintf("no recorded run of task %q produced this version", prod.Name)
		return n, nil
	}
	n.Task, n.Module, n.RunID, n.Params = e.Task, e.Module, e.RunID, e.Params
	for _, name := range slices.Sorted(maps.Keys(e.Inputs)) {
		in, err := remoteNode(ctx, s, m, name, e.Inputs[name], depth+1)
		if err != nil {
			return nil, err
		}
		n.Inputs = append(n.Inputs, in)
	}
	return n, nil
}

// remoteProducedBy finds the memo entry of task that wrote version v of
// dataset: the one its ref names, if that wrote v, else the earliest.
func remoteProducedBy(ctx context.Context, s *store.Store, pipeline, task, dataset string, v store.Version) (store.MemoEntry, bool, error) {
	if r, _, ok, err := s.Ref(ctx, pipeline, task); err != nil {
		return store.MemoEntry{}, false, err
	} else if ok && r.Outputs[dataset] == v {
		e, found, err := s.Memo(ctx, task, r.Key)
		if err != nil || found {
			return e, found, err
		}
	}
	entries, err := s.Memos(ctx, task)
	if err != nil {
		return store.MemoEntry{}, false, err
	}
	var found store.MemoEntry
	for _, e := range entries {
		if e.Outputs[dataset] == v && (found.Key == "" || e.Time.Before(found.Time)) {
			found = e
		}
	}
	return found, found.Key != "", nil
}
