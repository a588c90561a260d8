package storage

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
)

// Lister is a Driver that can list objects. A map task's commit lists the
// parts its run staged; a driver without it cannot serve that commit.
type Lister interface {
	// List returns the objects whose names start with the name u names
	// followed by "/": each one's name after that prefix, and its size,
	// sorted by name. Nothing under the prefix is no objects and no
	// error; a missing bucket is an error that names it and does not
	// match ErrNotFound. Objects still being staged are never listed.
	List(ctx context.Context, u *url.URL) ([]Object, error)
}

// Object is an object a Lister found.
type Object struct {
	// Name is the object's name relative to the listed prefix,
	// slash-separated.
	Name string
	Size int64
}

// List returns the objects under the prefix rawURL names (see Lister),
// from the driver of its scheme.
func (m *URLMux) List(ctx context.Context, rawURL string) ([]Object, error) {
	if strings.Contains(rawURL, "#") {
		return nil, fmt.Errorf("list %s: a prefix's URL carries no digest", rawURL)
	}
	u, d, _, err := m.resolve(rawURL)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", rawURL, err)
	}
	l, ok := d.(Lister)
	if !ok {
		return nil, fmt.Errorf("list %s: the %q storage driver cannot list objects", u.Redacted(), u.Scheme)
	}
	objs, err := l.List(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", u.Redacted(), err)
	}
	return objs, nil
}

// List implements Lister, if the driver New makes does.
func (l *LazyDriver[D]) List(ctx context.Context, u *url.URL) ([]Object, error) {
	d, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	lister, ok := any(d).(Lister)
	if !ok {
		return nil, errors.New("the driver cannot list objects")
	}
	return lister.List(ctx, u)
}

// SiblingURL returns the URL of the object named name relative to the
// folder of the object rawURL names: the same scheme, bucket and query,
// its path's last segment replaced by name, each of name's segments
// path-escaped. Part lists name their parts so (see fnspec.PartEntry).
func SiblingURL(rawURL, name string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", err
	}
	if u.Fragment != "" || strings.Contains(rawURL, "#") {
		return "", fmt.Errorf("URL %s carries a digest; a sibling's cannot be known", u.Redacted())
	}
	dir := path.Dir(u.Path)
	if dir == "." {
		dir = ""
	}
	return PartURL(u.Scheme+"://"+u.Host+strings.TrimSuffix(dir, "/")+queryOf(u), name), nil
}

func queryOf(u *url.URL) string {
	if u.RawQuery == "" {
		return ""
	}
	return "?" + u.RawQuery
}
