package artifact

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
)

// ModulePath is the path of the Go module GoBuild builds from.
const ModulePath = "github.com/glacier-pipeline/glacier"

// SourceEnv names the environment variable that, when set, is the
// directory of the module's source GoBuild uses, overriding every other way
// of finding it.
const SourceEnv = "GLACIER_SOURCE"

// buildRecipe changes whenever the flags or environment GoBuild builds with
// do, so binaries cached by an older recipe are not reused.
const buildRecipe = "1"

// Options say what GoBuild builds.
type Options struct {
	// Pkg is the import path of the main package to build, such as
	// "github.com/glacier-pipeline/glacier/providers/aws/lambdazip/bootstrap".
	// It is resolved in this module, so it may name a package of a
	// dependency too.
	Pkg string
	// GOOS and GOARCH are the target, such as "linux" and "arm64".
	GOOS, GOARCH string
	// Tags are build tags, such as "lambda.norpc".
	Tags []string
	// CacheDir keeps built binaries, so building the same package from the
	// same source with the same Go release again costs only a hash of the
	// source. Empty means os.UserCacheDir()/glacier.
	CacheDir string
	// Out, when set, receives a copy of the binary. When empty GoBuild
	// returns the path of the cached binary, which the caller must not
	// change.
	Out string
}

// CacheDir returns dir, or when it is empty the default cache directory
// of the packagers: os.UserCacheDir()/glacier, or glacier-cache under
// os.TempDir() where there is no user cache directory.
func CacheDir(dir string) string {
	if dir != "" {
		return dir
	}
	if user, err := os.UserCacheDir(); err == nil {
		return filepath.Join(user, "glacier")
	}
	return filepath.Join(os.TempDir(), "glacier-cache")
}

// GoBuild builds a main package of this module (see Options.Pkg) for
// another platform, reproducibly: CGO_ENABLED=0, -trimpath,
// -buildvcs=false and -ldflags "-s -w -buildid=", so the same source and Go
// release give the same bytes on every machine. It returns the binary's
// path: Options.Out, or the cached binary when Out is empty.
//
// The module's source is the first of:
//   - the directory in the GLACIER_SOURCE environment variable;
//   - when this program was built from a released version of the module,
//     that version's source from the module cache (go mod download);
//   - the source tree this program was built from, when it is still there;
//   - a pseudo-version's source from the module cache.
//
// Binaries are cached under Options.CacheDir, keyed by the Go release, the
// source (its version, or a hash of its files), the target and the tags.
// The go command must be on PATH.
func GoBuild(ctx context.Context, opts Options) (string, error) {
	if opts.Pkg == "" || opts.GOOS == "" || opts.GOARCH == "" {
		return "", fmt.Errorf("artifact: GoBuild needs Pkg, GOOS and GOARCH (got %q, %q, %q)", opts.Pkg, opts.GOOS, opts.GOARCH)
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("artifact: building %s needs the go command, which is not on PATH; install Go (https://go.dev/dl/)", opts.Pkg)
	}
	src, err := locate(ctx, goCmd, probeBuild())
	if err != nil {
		return "", err
	}
	if src.id == "" {
		replaced, err := localReplacements(ctx, goCmd, src.dir)
		if err != nil {
			return "", err
		}
		if src.id, err = treeID(src.dir, replaced...); err != nil {
			return "", err
		}
	}
	cacheDir := opts.CacheDir
	if cacheDir == "" {
		user, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("artifact: no cache directory for built binaries (%v); set Options.CacheDir", err)
		}
		cacheDir = filepath.Join(user, "glacier")
	}
	goVersion, err := goEnv(ctx, goCmd, src.dir, "GOVERSION")
	if err != nil {
		return "", err
	}
	tags := slices.Clone(opts.Tags)
	slices.Sort(tags)
	tags = slices.Compact(tags)
	key := hashStrings(buildRecipe, goVersion, src.id, opts.Pkg, opts.GOOS, opts.GOARCH, strings.Join(tags, ","))
	cached := filepath.Join(cacheDir, "gobuild", key[:32], filepath.Base(opts.Pkg))
	if _, err := os.Stat(cached); err != nil {
		if err := build(ctx, goCmd, src.dir, opts, tags, cached); err != nil {
			return "", err
		}
	}
	if opts.Out == "" {
		return cached, nil
	}
	if err := copyFile(cached, opts.Out, 0o755); err != nil {
		return "", fmt.Errorf("artifact: %w", err)
	}
	return opts.Out, nil
}

// SourceDir returns the root directory of the module's source, found as
// GoBuild finds it (GLACIER_SOURCE, a released version's download, the
// tree this program was built from, a pseudo-version's download). Packagers
// that ship source rather than binaries use it. The go command must be on
// PATH.
func SourceDir(ctx context.Context) (string, error) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("artifact: finding the source of %s needs the go command, which is not on PATH; install Go (https://go.dev/dl/)", ModulePath)
	}
	src, err := locate(ctx, goCmd, probeBuild())
	return src.dir, err
}

// build runs go build into a temporary file beside out and renames it, so
// a concurrent or interrupted build never leaves a partial binary at out.
func build(ctx context.Context, goCmd, dir string, opts Options, tags []string, out string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fmt.Errorf("artifact: %w", err)
	}
	tmp := fmt.Sprintf("%s.%d.tmp", out, os.Getpid())
	defer os.Remove(tmp)
	args := []string{"build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", "-o", tmp}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	args = append(args, opts.Pkg)
	cmd := exec.CommandContext(ctx, goCmd, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"CGO_ENABLED=0", "GOOS="+opts.GOOS, "GOARCH="+opts.GOARCH,
		// The baseline of each architecture, so the binary runs on every
		// machine of it, whatever the builder's environment says.
		"GOAMD64=v1", "GOARM64=v8.0",
		"GOFLAGS=-mod=readonly", "GOWORK=off", "GO111MODULE=on")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("artifact: GOOS=%s GOARCH=%s go build %s in %s failed: %v\n%s",
			opts.GOOS, opts.GOARCH, opts.Pkg, dir, err, strings.TrimSpace(stderr.String()))
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("artifact: %w", err)
	}
	return nil
}

func copyFile(src, dst string, mode fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := fmt.Sprintf("%s.%d.tmp", dst, os.Getpid())
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, mode)
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

func goEnv(ctx context.Context, goCmd, dir, name string) (string, error) {
	out, err := goOutput(ctx, goCmd, dir, "env", name)
	return strings.TrimSpace(string(out)), err
}

// goOutput runs the go command in dir, outside any workspace, and returns
// its standard output; its error quotes the command's standard error.
func goOutput(ctx context.Context, goCmd, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, goCmd, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%v: %s", err, bytes.TrimSpace(ee.Stderr))
		}
		return nil, fmt.Errorf("artifact: go %s in %s: %w", strings.Join(args, " "), dir, err)
	}
	return out, nil
}

// source is where the module's source is; id identifies its contents for
// the cache: a version, or empty for a tree whose files must be hashed.
type source struct {
	dir string
	id  string
}

// probe is what GoBuild knows about the program it runs in.
type probe struct {
	// env is GLACIER_SOURCE.
	env string
	// version is the version of the module this program was built with,
	// "" when unknown; replaceDir a local directory replacing it.
	version, replaceDir string
	// callerDir is the directory this file was compiled from (meaningless
	// in a -trimpath build).
	callerDir string
}

func probeBuild() probe {
	p := probe{env: os.Getenv(SourceEnv)}
	if _, file, _, ok := runtime.Caller(0); ok {
		p.callerDir = filepath.Dir(file)
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return p
	}
	mods := append([]*debug.Module{&info.Main}, info.Deps...)
	for _, m := range mods {
		if m == nil || m.Path != ModulePath {
			continue
		}
		p.version = m.Version
		if r := m.Replace; r != nil {
			p.version = ""
			switch {
			case r.Version != "" && r.Path == ModulePath:
				p.version = r.Version
			case r.Version == "" && filepath.IsAbs(r.Path):
				p.replaceDir = r.Path
			}
		}
		break
	}
	return p
}

var pseudoVersion = regexp.MustCompile(`[-.]\d{14}-[0-9a-f]{12}(\+incompatible)?$`)

// released reports whether v names a published release: a semantic
// version that is neither a pseudo-version nor a dirty VCS build.
func released(v string) bool {
	return strings.HasPrefix(v, "v") && !strings.Contains(v, "+dirty") && !pseudoVersion.MatchString(v)
}

// downloadable reports whether v is a version the module proxy may serve.
func downloadable(v string) bool {
	return strings.HasPrefix(v, "v") && !strings.Contains(v, "+dirty")
}

// locate finds the module's source; see GoBuild for the order.
func locate(ctx context.Context, goCmd string, p probe) (source, error) {
	if p.env != "" {
		dir, err := moduleRoot(p.env, false)
		if err != nil {
			return source{}, fmt.Errorf("artifact: %s=%s: %w; point it at a checkout of %s", SourceEnv, p.env, err, ModulePath)
		}
		return source{dir: dir}, nil
	}
	var tried []string
	if released(p.version) {
		src, err := download(ctx, goCmd, p.version)
		if err == nil {
			return src, nil
		}
		tried = append(tried, err.Error())
	}
	for _, d := range []struct{ dir, what string }{{p.replaceDir, "replacement directory"}, {p.callerDir, "source tree"}} {
		if d.dir == "" || !filepath.IsAbs(d.dir) {
			continue
		}
		dir, err := moduleRoot(d.dir, true)
		if err == nil {
			return source{dir: dir}, nil
		}
		tried = append(tried, fmt.Sprintf("the %s this program was built from: %v", d.what, err))
	}
	if !released(p.version) && downloadable(p.version) {
		src, err := download(ctx, goCmd, p.version)
		if err == nil {
			return src, nil
		}
		tried = append(tried, err.Error())
	}
	if len(tried) == 0 {
		tried = append(tried, "this program was built without a module version and with -trimpath")
	}
	return source{}, fmt.Errorf("artifact: cannot find the source of %s to build from (%s); set %s to a checkout of it",
		ModulePath, strings.Join(tried, "; "), SourceEnv)
}

// moduleRoot returns the nearest directory at or above dir whose go.mod
// declares ModulePath; with walk false, dir itself must be it.
func moduleRoot(dir string, walk bool) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		gomod := filepath.Join(dir, "go.mod")
		mod, err := modulePath(gomod)
		switch {
		case err == nil && mod == ModulePath:
			return dir, nil
		case err == nil && !walk:
			return "", fmt.Errorf("%s declares module %s, not %s", gomod, mod, ModulePath)
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return "", err
		case !walk:
			return "", fmt.Errorf("no go.mod in %s", dir)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod declaring %s above it", ModulePath)
		}
		dir = parent
	}
}

// modulePath returns the module path a go.mod declares.
func modulePath(gomod string) (string, error) {
	data, err := os.ReadFile(gomod)
	if err != nil {
		return "", err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "module"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			rest, _, _ = strings.Cut(rest, "//")
			return strings.Trim(strings.TrimSpace(rest), `"`+"`"), nil
		}
	}
	return "", fmt.Errorf("%s has no module line", gomod)
}

// download fetches a version of the module into the module cache.
func download(ctx context.Context, goCmd, version string) (source, error) {
	cmd := exec.CommandContext(ctx, goCmd, "mod", "download", "-json", ModulePath+"@"+version)
	cmd.Dir = os.TempDir() // outside any module
	cmd.Env = append(os.Environ(), "GOWORK=off", "GO111MODULE=on", "GOFLAGS=-mod=mod")
	out, err := cmd.Output()
	var res struct {
		Dir, Sum, Error string
	}
	if jerr := json.Unmarshal(out, &res); jerr == nil && res.Error != "" {
		return source{}, fmt.Errorf("go mod download %s@%s: %s", ModulePath, version, res.Error)
	}
	if err != nil {
		return source{}, fmt.Errorf("go mod download %s@%s: %v", ModulePath, version, err)
	}
	if res.Dir == "" {
		return source{}, fmt.Errorf("go mod download %s@%s gave no directory", ModulePath, version)
	}
	return source{dir: res.Dir, id: "version " + version + " " + res.Sum}, nil
}

// treeID identifies a source tree by a hash of the files a build may read:
// every regular file outside testdata, hidden and underscore directories
// and nested modules, except tests; and those of the nested modules in
// replaced (directories relative to root), which the build reads in place
// of their published versions.
func treeID(root string, replaced ...string) (string, error) {
	h := sha256.New()
	for _, dir := range append([]string{"."}, replaced...) {
		top := filepath.Join(root, filepath.FromSlash(dir))
		err := filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if d.IsDir() {
				if p == top {
					return nil
				}
				if name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
					return filepath.SkipDir
				}
				if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() || strings.HasSuffix(name, "_test.go") {
				return nil
			}
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			rel, _ := filepath.Rel(root, p)
			fh := sha256.New()
			n, err := io.Copy(fh, f)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "%s\x00%d\x00%x\n", filepath.ToSlash(rel), n, fh.Sum(nil))
			return nil
		})
		if err != nil {
			return "", fmt.Errorf("artifact: hash the source in %s: %w", top, err)
		}
	}
	return "tree " + hex.EncodeToString(h.Sum(nil)), nil
}

// localReplacements returns the directories, relative to the module in
// dir, that its go.mod replaces requirements with: the repository's other
// modules (the host ABI, the guest SDK), which a build reads from there.
func localReplacements(ctx context.Context, goCmd, dir string) ([]string, error) {
	out, err := goOutput(ctx, goCmd, dir, "mod", "edit", "-json")
	if err != nil {
		return nil, err
	}
	var mod struct {
		Replace []struct {
			New struct{ Path, Version string }
		}
	}
	if err := json.Unmarshal(out, &mod); err != nil {
		return nil, fmt.Errorf("artifact: go mod edit -json in %s: %w", dir, err)
	}
	var dirs []string
	for _, r := range mod.Replace {
		if p := r.New.Path; r.New.Version == "" && (strings.HasPrefix(p, "./") || strings.HasPrefix(p, "../")) {
			dirs = append(dirs, path.Clean(p))
		}
	}
	slices.Sort(dirs)
	return slices.Compact(dirs), nil
}

func hashStrings(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s\n", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}
