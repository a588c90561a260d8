package hostile

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Tree samples the resident memory of a process and all its descendants
// from /proc while it runs, for processes this test does not wait for
// itself (an emulator's function, a function framework's workers).
type Tree struct {
	root int
	stop chan struct{}
	done chan struct{}

	mu   sync.Mutex
	peak int64 // bytes, the largest sum of VmRSS seen
}

// TreeBound is the most a Tree's peak may be while the tree loads a hostile
// module: the compile budget, and room for the programs themselves.
const TreeBound = (CompileMemoryMiB + 256) << 20

// WatchTree samples the tree under pid every 5 ms until Stop.
func WatchTree(pid int) *Tree {
	t := &Tree{root: pid, stop: make(chan struct{}), done: make(chan struct{})}
	go t.loop()
	return t
}

func (t *Tree) loop() {
	defer close(t.done)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if sum := treeRSS(t.root); sum > 0 {
			t.mu.Lock()
			t.peak = max(t.peak, sum)
			t.mu.Unlock()
		}
		select {
		case <-t.stop:
			return
		case <-tick.C:
		}
	}
}

// Stop ends the sampling and returns the peak sum of the tree's resident
// memory, in bytes.
func (t *Tree) Stop() int64 {
	close(t.stop)
	<-t.done
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.peak
}

// Peak returns the peak so far.
func (t *Tree) Peak() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.peak
}

// treeRSS sums VmRSS over root and its descendants.
func treeRSS(root int) int64 {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	parent := map[int]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The command may hold spaces and parentheses; the fields after
		// its closing parenthesis do not.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		parent[pid] = ppid
	}
	in := func(pid int) bool {
		for range 64 {
			if pid == root {
				return true
			}
			p, ok := parent[pid]
			if !ok || p == 0 {
				return false
			}
			pid = p
		}
		return false
	}
	var sum int64
	for pid := range parent {
		if in(pid) {
			sum += vmRSS(pid)
		}
	}
	return sum
}

func vmRSS(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
