package gcfbundle

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/glacier-pipeline/glacier/providers/internal/artifact"
)

// bundleModule is the module path of every bundle. The buildpack wants a
// dot in its first element.
const bundleModule = "glacier.local/function"

// vendorPrefix is where the Glacier module's packages sit in a bundle, and
// so what the bundle's go.mod replaces the module with: it is not
// published, and a vendored build reads it from there.
const vendorPrefix = "vendor/" + artifact.ModulePath

// glacierModules are the modules of the Glacier repository, by the
// directory each sits in below the Glacier module's root. The bundle
// requires each that provides it packages (the host imports the ABI's),
// replaced in the same way as the Glacier module.
var glacierModules = map[string]string{
	artifact.ModulePath:                ".",
	artifact.ModulePath + "/abi":       "abi",
	artifact.ModulePath + "/sdk-guest": "sdk-guest",
}

// goTree is the part of a bundle every task shares: go.mod, go.sum and
// vendor/.
type goTree struct {
	files []artifact.File
	// goVersion is the go directive of the bundle's go.mod.
	goVersion string
	// wazero is the version of wazero vendored.
	wazero string
}

type treeResult struct {
	once sync.Once
	tree *goTree
	err  error
}

// trees memoizes vendoring per source directory within a process: the
// source does not change under a running compile.
var trees sync.Map // source dir -> *treeResult

// vendored returns the shared part of every bundle, made from the Glacier
// module's source (see sourceDir) and the module cache.
func vendored(ctx context.Context) (*goTree, error) {
	src, err := artifact.SourceDir(ctx)
	if err != nil {
		return nil, fmt.Errorf("gcfbundle: the bundles vendor the Glacier module: %w", err)
	}
	v, _ := trees.LoadOrStore(src, &treeResult{})
	r := v.(*treeResult)
	r.once.Do(func() { r.tree, r.err = vendor(ctx, src) })
	if r.err != nil {
		trees.CompareAndDelete(src, r) // it may be the context's fault
	}
	return r.tree, r.err
}

// modFile is the part of `go mod edit -json` read here.
type modFile struct {
	Module  struct{ Path string }
	Go      string
	Require []struct {
		Path, Version string
	}
}

func readModFile(ctx context.Context, goCmd, dir string) (*modFile, error) {
	out, err := goRun(ctx, goCmd, dir, "mod", "edit", "-json")
	if err != nil {
		return nil, err
	}
	var m modFile
	if err := json.Unmarshal(out, &m); err != nil {
		return nil, fmt.Errorf("parse go mod edit -json in %s: %w", dir, err)
	}
	return &m, nil
}

// vendor makes the shared files of every bundle: a temporary module holding
// the bundle's Go source, requiring the Glacier module (replaced by src)
// at the versions src's go.mod pins, is vendored with `go mod vendor`;
// then its requirements are cut to the modules that provide packages and
// it is vendored again, so go.mod lists only what the function uses.
// Modules come from the module cache; the go command downloads only what
// is missing from it, checked against src's go.sum.
func vendor(ctx context.Context, src string) (*goTree, error) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return nil, errors.New("gcfbundle: packaging for Cloud Functions needs the go command, which is not on PATH; install Go (https://go.dev/dl/)")
	}
	mod, err := readModFile(ctx, goCmd, src)
	if err != nil {
		return nil, fmt.Errorf("gcfbundle: %w", err)
	}
	srcSum, err := os.ReadFile(filepath.Join(src, "go.sum"))
	if err != nil {
		return nil, fmt.Errorf("gcfbundle: %w", err)
	}
	tmp, err := os.MkdirTemp("", "glacier-gcf-vendor-")
	if err != nil {
		return nil, fmt.Errorf("gcfbundle: %w", err)
	}
	defer os.RemoveAll(tmp)
	write := func(name string, data []byte) error {
		p := filepath.Join(tmp, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, data, 0o644)
	}
	for name, data := range map[string]string{"function.go": functionSource, "cmd/main.go": cmdSource, "go.sum": string(srcSum)} {
		if err := write(name, []byte(data)); err != nil {
			return nil, fmt.Errorf("gcfbundle: %w", err)
		}
	}

	requires := map[string]string{artifact.ModulePath: "v0.0.0"}
	for _, r := range mod.Require {
		requires[r.Path] = r.Version
	}
	var modules map[string]modInfo
	for pass := range 2 {
		if err := write("go.mod", goMod(mod.Go, requires, src)); err != nil {
			return nil, fmt.Errorf("gcfbundle: %w", err)
		}
		if _, err := goRun(ctx, goCmd, tmp, "mod", "vendor"); err != nil {
			return nil, fmt.Errorf("gcfbundle: vendor the Cloud Functions bundle's dependencies: %w", err)
		}
		txt, err := os.ReadFile(filepath.Join(tmp, "vendor", "modules.txt"))
		if err != nil {
			return nil, fmt.Errorf("gcfbundle: %w", err)
		}
		modules = parseModulesTxt(txt)
		if pass == 0 {
			for p := range requires {
				if !modules[p].packages {
					delete(requires, p)
				}
			}
		}
	}
	ff, ok := modules[frameworkModule]
	if !ok || !ff.packages {
		return nil, fmt.Errorf("gcfbundle: the vendored bundle lacks %s; is it required by %s/go.mod?", frameworkModule, src)
	}
	wz := modules["github.com/tetratelabs/wazero"]

	// The replacement was the local source; in the bundle it is the
	// vendored copy, which is all a vendored build reads.
	files := []artifact.File{
		{Name: "go.mod", Mode: artifact.ModeFile, Data: goMod(mod.Go, requires, "./"+vendorPrefix)},
		{Name: "go.sum", Mode: artifact.ModeFile, Data: filterSum(srcSum, modules)},
	}
	vendorFiles, err := artifact.ReadDir(filepath.Join(tmp, "vendor"), "vendor")
	if err != nil {
		return nil, fmt.Errorf("gcfbundle: %w", err)
	}
	for _, f := range vendorFiles {
		f.Mode = artifact.ModeFile // whatever the checkout's modes were
		if f.Name == "vendor/modules.txt" {
			for _, dir := range glacierModules {
				f.Data = bytes.ReplaceAll(f.Data, []byte("=> "+filepath.Join(src, dir)+"\n"), []byte("=> "+under("./"+vendorPrefix, dir)+"\n"))
			}
		}
		files = append(files, f)
	}
	return &goTree{files: files, goVersion: mod.Go, wazero: wz.version}, nil
}

const frameworkModule = "github.com/GoogleCloudPlatform/functions-framework-go"

// goMod writes the bundle's go.mod: requires, sorted, with each Glacier
// module among them replaced by its directory under replacement.
func goMod(goVersion string, requires map[string]string, replacement string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "module %s\n\ngo %s\n\nrequire (\n", bundleModule, goVersion)
	// The order go mod edit keeps: by path, byte-wise.
	direct := []string{frameworkModule}
	var indirect, glacier []string
	for _, p := range slices.Sorted(maps.Keys(requires)) {
		switch _, ok := glacierModules[p]; {
		case ok:
			direct, glacier = append(direct, p), append(glacier, p)
		case p != frameworkModule:
			indirect = append(indirect, p)
		}
	}
	slices.Sort(direct)
	for _, p := range direct {
		fmt.Fprintf(&b, "\t%s %s\n", p, requires[p])
	}
	b.WriteString(")\n\nrequire (\n")
	for _, p := range indirect {
		fmt.Fprintf(&b, "\t%s %s // indirect\n", p, requires[p])
	}
	b.WriteString(")\n\n// The Glacier modules are not published: the function is built from\n// their packages in vendor/.\n")
	for _, p := range glacier {
		fmt.Fprintf(&b, "replace %s => %s\n\n", p, under(replacement, glacierModules[p]))
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// under returns the directory dir (slash-separated, "." for root itself)
// below root, keeping root's "./": a replacement without it would name a
// module, not a directory.
func under(root, dir string) string {
	if dir == "." {
		return root
	}
	return root + "/" + dir
}

type modInfo struct {
	version  string
	packages bool
}

// parseModulesTxt reads vendor/modules.txt: each "# path version" line
// starts a module, and lines without "#" are its vendored packages.
func parseModulesTxt(txt []byte) map[string]modInfo {
	mods := map[string]modInfo{}
	cur := ""
	sc := bufio.NewScanner(bytes.NewReader(txt))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "# "):
			f := strings.Fields(line[2:])
			cur = ""
			if len(f) >= 2 && strings.HasPrefix(f[1], "v") {
				cur = f[0]
				mods[cur] = modInfo{version: f[1]}
			}
		case strings.HasPrefix(line, "#"), line == "":
		case cur != "":
			m := mods[cur]
			m.packages = true
			mods[cur] = m
		}
	}
	return mods
}

// filterSum keeps the go.sum lines of the modules in the build list, so the
// bundle's go.sum depends only on its go.mod.
func filterSum(sum []byte, modules map[string]modInfo) []byte {
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(sum))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 {
			continue
		}
		m, ok := modules[f[0]]
		if ok && strings.TrimSuffix(f[1], "/go.mod") == m.version {
			out.WriteString(sc.Text() + "\n")
		}
	}
	return out.Bytes()
}

// goRun runs the go command in dir, never in workspace mode and never
// switching toolchains, and returns its stdout.
func goRun(ctx context.Context, goCmd, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, goCmd, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOTOOLCHAIN=local", "GO111MODULE=on", "GOFLAGS=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("go %s in %s: %v: %s", strings.Join(args, " "), dir, err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}
