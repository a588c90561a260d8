// Package storetest is the conformance suite of the store: every backend
// the store runs on (a directory, S3, Cloud Storage) runs it from its own
// tests, so the commit protocol is proven where it is used.
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, storetest.Harness{
//			Mux:    mux,
//			Layout: func(t *testing.T) store.Layout { ... },
//		})
//	}
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/storage"
	"github.com/glacier-pipeline/glacier/store"
)

// Harness gives the suite a backend.
type Harness struct {
	// Mux reaches the backend; its drivers must be storage.Conditional
	// and storage.Lister.
	Mux *storage.URLMux
	// Layout returns a layout no other test uses, whose roots exist
	// (buckets created). Datasets "a" and "b" may have roots of their own.
	Layout func(t *testing.T) store.Layout
}

// Run runs the suite as subtests of t.
func Run(t *testing.T, h Harness) {
	if h.Mux == nil || h.Layout == nil {
		t.Fatal("storetest: Harness needs Mux and Layout")
	}
	t.Run("Adopt", func(t *testing.T) { testAdopt(t, h) })
	t.Run("MemoCreateOnly", func(t *testing.T) { testMemo(t, h) })
	t.Run("RefRace", func(t *testing.T) { testRefRace(t, h) })
	t.Run("InterruptedCommit", func(t *testing.T) { testInterrupted(t, h) })
	t.Run("Publish", func(t *testing.T) { testPublish(t, h) })
	t.Run("RetireAndRevive", func(t *testing.T) { testRetire(t, h) })
	t.Run("Parts", func(t *testing.T) { testParts(t, h) })
	t.Run("RunTasks", func(t *testing.T) { testRunTasks(t, h) })
	t.Run("OpenAndRuns", func(t *testing.T) { testOpen(t, h) })
	t.Run("BadNames", func(t *testing.T) { testBadNames(t, h) })
}

func open(t *testing.T, h Harness) *store.Store {
	t.Helper()
	s, err := store.New(h.Mux, h.Layout(t))
	if err != nil {
		t.Fatalf("store.New: %v", err)
	}
	return s
}

func version(b []byte) store.Version {
	sum := sha256.Sum256(b)
	return store.Version{Digest: hex.EncodeToString(sum[:]), Size: int64(len(b))}
}

// stage writes b where run's task stages dataset, and returns its version.
func stage(t *testing.T, h Harness, s *store.Store, run, task, dataset string, b []byte) (string, store.Version) {
	t.Helper()
	u := s.StagingURL(run, task, dataset)
	w, err := h.Mux.Stage(t.Context(), u)
	if err != nil {
		t.Fatalf("Stage(%s): %v", u, err)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatalf("Write(%s): %v", u, err)
	}
	if err := w.Commit(t.Context()); err != nil {
		t.Fatalf("Commit(%s): %v", u, err)
	}
	return u, version(b)
}

func read(t *testing.T, h Harness, u string) []byte {
	t.Helper()
	rc, err := h.Mux.Open(t.Context(), u)
	if err != nil {
		t.Fatalf("Open(%s): %v", u, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", u, err)
	}
	return b
}

func missing(t *testing.T, h Harness, u string) bool {
	t.Helper()
	_, err := h.Mux.Stat(t.Context(), u)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Stat(%s): %v", u, err)
	}
	return err != nil
}

// testAdopt: a staged output becomes a content-addressed version, read
// back through its digest; the same bytes staged again cost nothing more,
// and an object of the wrong size under a version's name is refused.
func testAdopt(t *testing.T, h Harness) {
	s := open(t, h)
	ctx := t.Context()
	data := bytes.Repeat([]byte("glacier\n"), 1000)
	u, v := stage(t, h, s, "r1", "t", "a", data)
	if ok, err := s.Has(ctx, "a", v); err != nil || ok {
		t.Fatalf("Has before Adopt = %v, %v; want false", ok, err)
	}
	if err := s.Adopt(ctx, "a", u, v); err != nil {
		t.Fatalf("Adopt: %v", err)
	}
	if ok, err := s.Has(ctx, "a", v); err != nil || !ok {
		t.Fatalf("Has after Adopt = %v, %v; want true", ok, err)
	}
	if got := read(t, h, s.ObjectURL("a", v)); !bytes.Equal(got, data) {
		t.Fatalf("the version reads %d bytes, want the %d staged", len(got), len(data))
	}
	if !missing(t, h, u) {
		t.Errorf("the staged copy %s is still there after Adopt", u)
	}
	u2, _ := stage(t, h, s, "r2", "t", "a", data)
	if err := s.Adopt(ctx, "a", u2, v); err != nil {
		t.Fatalf("Adopt of bytes the store has: %v", err)
	}
	if !missing(t, h, u2) {
		t.Errorf("the second staged copy %s is still there", u2)
	}
	short, _ := stage(t, h, s, "r3", "t", "a", data[:10])
	if err := s.Adopt(ctx, "a", short, store.Version{Digest: v.Digest, Size: 10}); !errors.Is(err, storage.ErrCorrupt) {
		t.Errorf("Adopt under a name whose object has another size: %v, want storage.ErrCorrupt", err)
	}
	if got := read(t, h, s.ObjectURL("a", v)); !bytes.Equal(got, data) {
		t.Errorf("a refused Adopt changed the version")
	}
}

// testMemo: racing writers of one cache key all succeed, and one entry,
// whole, is kept.
func testMemo(t *testing.T, h Harness) {
	s := open(t, h)
	ctx := t.Context()
	key := version([]byte("key")).Digest
	if _, ok, err := s.Memo(ctx, "t", key); err != nil || ok {
		t.Fatalf("Memo of a new key = %v, %v", ok, err)
	}
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = s.PutMemo(ctx, store.MemoEntry{Key: key, Task: "t", RunID: fmt.Sprintf("r%d", i),
				Outputs: map[string]store.Version{"o": version([]byte{byte(i)})}})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("PutMemo: %v", err)
	}
	e, ok, err := s.Memo(ctx, "t", key)
	if err != nil || !ok {
		t.Fatalf("Memo = %v, %v", ok, err)
	}
	var i int
	if _, err := fmt.Sscanf(e.RunID, "r%d", &i); err != nil || e.Outputs["o"] != version([]byte{byte(i)}) {
		t.Errorf("the entry kept mixes writers: %+v", e)
	}

	// ReplaceMemo keeps an entry naming the same outputs, replaces one
	// naming others, and PutMemo never replaces.
	put := func(f func(context.Context, store.MemoEntry) error, run string, out byte) {
		t.Helper()
		if err := f(ctx, store.MemoEntry{Key: key, Task: "t", RunID: run, Outputs: map[string]store.Version{"o": version([]byte{out})}}); err != nil {
			t.Fatalf("%s: %v", run, err)
		}
	}
	want := func(run string) {
		t.Helper()
		if e, ok, err := s.Memo(ctx, "t", key); err != nil || !ok || e.RunID != run {
			t.Errorf("after the writes, the entry is %+v, %v, %v; want run %s's", e, ok, err, run)
		}
	}
	put(s.ReplaceMemo, "same", byte(i))
	want(e.RunID)
	put(s.ReplaceMemo, "other", 200)
	want("other")
	put(s.PutMemo, "put", 201)
	want("other")
	fresh := version([]byte("fresh key")).Digest
	if err := s.ReplaceMemo(ctx, store.MemoEntry{Key: fresh, Task: "t", RunID: "new"}); err != nil {
		t.Fatal(err)
	}
	if e, ok, err := s.Memo(ctx, "t", fresh); err != nil || !ok || e.RunID != "new" {
		t.Errorf("ReplaceMemo of a new key: %+v, %v, %v", e, ok, err)
	}
}

// testRefRace: writers that all read the ref before any commits race to
// commit it; the newest run's ref is the one kept, and every loser is told
// so or wrote before it.
func testRefRace(t *testing.T, h Harness) {
	s := open(t, h)
	ctx := t.Context()
	const n = 8
	var ready, wg sync.WaitGroup
	ready.Add(n)
	start := make(chan struct{})
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, gen, _, err := s.Ref(ctx, "p", "t")
			ready.Done()
			if err != nil {
				errs[i] = err
				return
			}
			<-start
			errs[i] = s.Commit(ctx, "p", store.Ref{Task: "t", Key: version([]byte{byte(i)}).Digest, RunID: fmt.Sprintf("r%02d", i),
				Outputs: map[string]store.Version{"o": version([]byte{byte(i)})}}, gen)
		})
	}
	ready.Wait()
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil && !errors.Is(err, store.ErrSuperseded) {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	if !errors.Is(errs[0], store.ErrSuperseded) && errs[0] != nil {
		t.Errorf("the oldest writer: %v", errs[0])
	}
	r, _, ok, err := s.Ref(ctx, "p", "t")
	if err != nil || !ok {
		t.Fatalf("Ref = %v, %v", ok, err)
	}
	if want := fmt.Sprintf("r%02d", n-1); r.RunID != want || r.Outputs["o"] != version([]byte{byte(n - 1)}) {
		t.Errorf("the ref kept is %+v, want the newest run's, %s", r, want)
	}
	v, ok, err := s.Current(ctx, "p", "o", "t")
	if err != nil || !ok || v != r.Outputs["o"] {
		t.Errorf("Current = %v, %v, %v; want the ref's output", v, ok, err)
	}
}

// testInterrupted: a commit stopped after its outputs and memo entry were
// written, before its ref, leaves readers on the old version; the rerun
// finds the memo entry and commits without running anything.
func testInterrupted(t *testing.T, h Harness) {
	s := open(t, h)
	ctx := t.Context()
	commit := func(run string, outs map[string][]byte, refToo bool) store.MemoEntry {
		t.Helper()
		e := store.MemoEntry{Key: version([]byte(run)).Digest, Task: "t", RunID: run, Outputs: map[string]store.Version{}}
		for _, d := range slices.Sorted(maps.Keys(outs)) {
			u, v := stage(t, h, s, run, "t", d, outs[d])
			if err := s.Adopt(ctx, d, u, v); err != nil {
				t.Fatalf("Adopt: %v", err)
			}
			e.Outputs[d] = v
		}
		if err := s.PutMemo(ctx, e); err != nil {
			t.Fatalf("PutMemo: %v", err)
		}
		if refToo {
			_, gen, _, err := s.Ref(ctx, "p", "t")
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Commit(ctx, "p", store.Ref{Task: "t", Key: e.Key, RunID: run, Outputs: e.Outputs}, gen); err != nil {
				t.Fatalf("Commit: %v", err)
			}
		}
		return e
	}
	old := commit("r1", map[string][]byte{"a": []byte("a1"), "b": []byte("b1")}, true)
	e := commit("r2", map[string][]byte{"a": []byte("a2"), "b": []byte("b2")}, false)
	for _, d := range []string{"a", "b"} {
		if v, ok, err := s.Current(ctx, "p", d, "t"); err != nil || !ok || v != old.Outputs[d] {
			t.Errorf("after an interrupted commit, %s is %v (%v, %v); want the old version, like the other output", d, v, ok, err)
		}
	}
	found, ok, err := s.Memo(ctx, "t", e.Key)
	if err != nil || !ok {
		t.Fatalf("the rerun finds no memo entry: %v, %v", ok, err)
	}
	_, gen, _, err := s.Ref(ctx, "p", "t")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, "p", store.Ref{Task: "t", Key: found.Key, RunID: "r3", Outputs: found.Outputs}, gen); err != nil {
		t.Fatalf("Commit from the memo: %v", err)
	}
	for _, d := range []string{"a", "b"} {
		if v, _, _ := s.Current(ctx, "p", d, "t"); v != e.Outputs[d] {
			t.Errorf("after the rerun's commit, %s is %v, want %v", d, v, e.Outputs[d])
		}
	}
}

// testPublish: the stable name holds the published version's bytes.
func testPublish(t *testing.T, h Harness) {
	s := open(t, h)
	ctx := t.Context()
	for _, data := range [][]byte{[]byte("first"), []byte("second, longer")} {
		u, v := stage(t, h, s, "r", "t", "b", data)
		if err := s.Adopt(ctx, "b", u, v); err != nil {
			t.Fatal(err)
		}
		if err := s.Publish(ctx, "b", v); err != nil {
			t.Fatalf("Publish: %v", err)
		}
		if got := read(t, h, s.StableURL("b")); !bytes.Equal(got, data) {
			t.Errorf("the stable name reads %q, want %q", got, data)
		}
	}
}

// testRetire: a retired version leaves its name for RetiredName, whole,
// and Revive brings it back; retiring what is gone and reviving what was
// never retired change nothing.
func testRetire(t *testing.T, h Harness) {
	s := open(t, h)
	ctx := t.Context()
	data := []byte("a version no ref names any more")
	u, v := stage(t, h, s, "r", "t", "c", data)
	if err := s.Adopt(ctx, "c", u, v); err != nil {
		t.Fatal(err)
	}
	if err := s.Retire(ctx, "c", v); err != nil {
		t.Fatalf("Retire: %v", err)
	}
	if ok, err := s.Has(ctx, "c", v); err != nil || ok {
		t.Fatalf("Has after Retire = %v, %v; want false", ok, err)
	}
	if got := read(t, h, s.RetiredURL("c", v)); !bytes.Equal(got, data) {
		t.Fatalf("the retired version reads %q, want %q", got, data)
	}
	if err := s.Retire(ctx, "c", v); err != nil {
		t.Errorf("Retire of a version already retired: %v, want nil", err)
	}
	if ok, err := s.Revive(ctx, "c", v); err != nil || !ok {
		t.Fatalf("Revive = %v, %v; want true", ok, err)
	}
	if got := read(t, h, s.ObjectURL("c", v)); !bytes.Equal(got, data) {
		t.Fatalf("the revived version reads %q, want %q", got, data)
	}
	if ok, err := s.Revive(ctx, "c", v); err != nil || !ok {
		t.Errorf("Revive of a version the store has = %v, %v; want true", ok, err)
	}
	never := version([]byte("never made"))
	if ok, err := s.Revive(ctx, "c", never); err != nil || ok {
		t.Errorf("Revive of a version never retired = %v, %v; want false", ok, err)
	}
}

// testParts: parts staged at their own names become versions, a list of
// them a version that reads back the same, whatever order it was given
// in, and the stable name lists each part's object, which reads as the
// part; a list that is not sorted and unique is refused.
func testParts(t *testing.T, h Harness) {
	s := open(t, h)
	ctx := t.Context()
	data := map[string][]byte{"b/2.log": []byte("two"), "a.log": []byte("one"), "c.log": []byte("one")}
	var parts []fnspec.Part
	for _, k := range []string{"b/2.log", "c.log", "a.log"} {
		u := s.PartStagingURL("r", "t", "p", k)
		w, err := h.Mux.Stage(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data[k]); err != nil {
			t.Fatal(err)
		}
		if err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		v := version(data[k])
		if err := s.Adopt(ctx, "p", u, v); err != nil {
			t.Fatalf("Adopt part %q: %v", k, err)
		}
		parts = append(parts, fnspec.Part{Key: k, Version: v})
	}
	v, err := s.PutParts(ctx, "r", "t", "p", parts)
	if err != nil {
		t.Fatalf("PutParts: %v", err)
	}
	got, err := s.Parts(ctx, "p", v)
	if err != nil {
		t.Fatalf("Parts: %v", err)
	}
	fnspec.SortParts(parts)
	if !slices.Equal(got, parts) {
		t.Errorf("Parts = %v, want %v", got, parts)
	}
	if again, err := s.PutParts(ctx, "r2", "t", "p", slices.Clone(parts)); err != nil || again != v {
		t.Errorf("PutParts of the same parts = %v, %v; want %v", again, err, v)
	}
	if err := s.PublishParts(ctx, "p", parts); err != nil {
		t.Fatalf("PublishParts: %v", err)
	}
	entries, err := fnspec.DecodeParts(read(t, h, s.StableURL("p")))
	if err != nil {
		t.Fatalf("the stable name: %v", err)
	}
	if len(entries) != len(parts) {
		t.Fatalf("the stable name lists %d parts, want %d", len(entries), len(parts))
	}
	for _, e := range entries {
		u, err := storage.SiblingURL(s.StableURL("p"), e.Object)
		if err != nil {
			t.Fatal(err)
		}
		if got := read(t, h, u); !bytes.Equal(got, data[e.Key]) {
			t.Errorf("part %q's object %s reads %q, want %q", e.Key, e.Object, got, data[e.Key])
		}
	}
	// A retired list reads back from its retired name.
	if _, ok, err := s.RetiredParts(ctx, "p", v); err != nil || ok {
		t.Errorf("RetiredParts of a list never retired = %v, %v; want false", ok, err)
	}
	if err := s.Retire(ctx, "p", v); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := s.RetiredParts(ctx, "p", v); err != nil || !ok || !slices.Equal(got, parts) {
		t.Errorf("RetiredParts = %v, %v, %v; want %v", got, ok, err, parts)
	}
	if ok, err := s.Revive(ctx, "p", v); err != nil || !ok {
		t.Fatalf("Revive = %v, %v", ok, err)
	}
	dup := append(slices.Clone(parts), parts[0])
	if _, err := s.PutParts(ctx, "r3", "t", "p", dup); err == nil {
		t.Error("PutParts of a list with a key twice succeeded")
	}
}

// testRunTasks: each task's record of a run is listed.
func testRunTasks(t *testing.T, h Harness) {
	s := open(t, h)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	for _, task := range []string{"b", "a"} {
		if err := s.PutRunTask(ctx, store.RunTask{Task: task, RunID: "r1", Status: "succeeded", Cached: task == "a", Start: now}); err != nil {
			t.Fatalf("PutRunTask: %v", err)
		}
	}
	if err := s.PutRunTask(ctx, store.RunTask{Task: "a", RunID: "r2", Status: "failed", Start: now}); err != nil {
		t.Fatal(err)
	}
	got, err := s.RunTasks(ctx, "r1")
	if err != nil {
		t.Fatalf("RunTasks: %v", err)
	}
	if len(got) != 2 || got[0].Task != "a" || !got[0].Cached || got[1].Task != "b" || got[1].Cached || !got[0].Start.Equal(now) {
		t.Errorf("RunTasks(r1) = %+v", got)
	}

	// A part's record is its own, and not one of the run's tasks'.
	if err := s.PutRunTask(ctx, store.RunTask{Task: "b", RunID: "r1", Part: "x/1.log", Status: "failed", Log: "bad\n", Start: now}); err != nil {
		t.Fatalf("PutRunTask of a part: %v", err)
	}
	part, ok, err := s.RunPartOf(ctx, "r1", "b", "x/1.log")
	if err != nil || !ok || part.Status != "failed" || part.Log != "bad\n" {
		t.Errorf("RunPartOf = %+v, %v, %v", part, ok, err)
	}
	if _, ok, err := s.RunPartOf(ctx, "r1", "b", "x/2.log"); err != nil || ok {
		t.Errorf("RunPartOf of a part that recorded nothing = %v, %v; want false", ok, err)
	}
	if got, err := s.RunTasks(ctx, "r1"); err != nil || len(got) != 2 {
		t.Errorf("RunTasks(r1) after a part's record = %d records, %v; want 2", len(got), err)
	}
	if err := s.PutRunTask(ctx, store.RunTask{Task: "b", RunID: "r1", Part: "../x"}); err == nil {
		t.Error("PutRunTask of a part with a bad key succeeded")
	}
}

// testOpen: a store opened from its state's URL and a pipeline's name
// finds the datasets where the layout record says, and lists its runs
// newest first; a state without the pipeline says what to check.
func testOpen(t *testing.T, h Harness) {
	s := open(t, h)
	ctx := t.Context()
	if _, err := store.Open(ctx, h.Mux, s.Layout().State, "p"); err == nil {
		t.Error("Open found pipeline p before any layout record was written")
	}
	if err := s.PutLayout(ctx, "p", map[string]string{"t": "m"}); err != nil {
		t.Fatalf("PutLayout: %v", err)
	}
	v := version([]byte("a's bytes"))
	if err := s.PutObject(ctx, "r1", "t", "a", v, strings.NewReader("a's bytes")); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	if err := s.PutObject(ctx, "r1", "t", "a", v, strings.NewReader("A's bytes")); err != nil {
		t.Errorf("PutObject of a version the store has: %v", err)
	}
	if err := s.PutObject(ctx, "r1", "t", "b", v, strings.NewReader("A's bytes")); !errors.Is(err, storage.ErrCorrupt) {
		t.Errorf("PutObject of bytes that are not the version = %v, want ErrCorrupt", err)
	}
	if has, err := s.Has(ctx, "b", v); err != nil || has {
		t.Errorf("after a refused PutObject, Has = %v, %v", has, err)
	}
	for _, r := range []string{"20261207T100000.000Z-aaaaaa", "20261207T110000.000Z-bbbbbb"} {
		if err := s.PutRunTask(ctx, store.RunTask{Task: "t", RunID: r, Status: "succeeded"}); err != nil {
			t.Fatal(err)
		}
	}

	o, err := store.Open(ctx, h.Mux, s.Layout().State, "p")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if !maps.Equal(o.Modules(), map[string]string{"t": "m"}) {
		t.Errorf("Modules = %v", o.Modules())
	}
	key := strings.Repeat("c", 64)
	if err := s.PutMemo(ctx, store.MemoEntry{Key: key, Task: "t", Outputs: map[string]store.Version{"a": v}}); err != nil {
		t.Fatal(err)
	}
	if memos, err := o.Memos(ctx, "t"); err != nil || len(memos) != 1 || memos[0].Key != key {
		t.Errorf("Memos(t) = %+v, %v", memos, err)
	}
	rc, err := o.Read(ctx, "a", v)
	if err != nil {
		t.Fatalf("Read through the opened store: %v", err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || string(got) != "a's bytes" {
		t.Errorf("read %q, %v", got, err)
	}
	runs, err := o.Runs(ctx)
	if err != nil {
		t.Fatalf("Runs: %v", err)
	}
	if want := []string{"20261207T110000.000Z-bbbbbb", "20261207T100000.000Z-aaaaaa"}; !slices.Equal(runs, want) {
		t.Errorf("Runs = %q, want %q", runs, want)
	}
}

// testBadNames: names that could leave their place in the layout are
// refused before anything is read or written.
func testBadNames(t *testing.T, h Harness) {
	s := open(t, h)
	ctx := t.Context()
	for _, bad := range []string{"", "..", "a/b", `a\b`} {
		if _, _, _, err := s.Ref(ctx, "p", bad); err == nil {
			t.Errorf("Ref of task %q succeeded", bad)
		}
		if err := s.PutMemo(ctx, store.MemoEntry{Key: version(nil).Digest, Task: bad}); err == nil {
			t.Errorf("PutMemo of task %q succeeded", bad)
		}
	}
	if err := s.PutMemo(ctx, store.MemoEntry{Key: "../x", Task: "t"}); err == nil {
		t.Error("PutMemo of key ../x succeeded")
	}
	if err := s.PutRunTask(ctx, store.RunTask{Task: "t", RunID: "../r"}); err == nil {
		t.Error("PutRunTask of run ../r succeeded")
	}
}
