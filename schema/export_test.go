package schema

// FastPath reports whether c validates JSON on the fast path.
func FastPath(c *Contract) bool { return c.fast != nil }

// CheckLib validates one JSON value with the library alone.
func (c *Contract) CheckLib(b []byte) *Violation { return c.checkLib(b) }
