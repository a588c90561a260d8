//go:build !linux

package local

// syncDeferred makes durable every file written to the store without a
// sync: where there is no syncfs(2), each one.
func syncDeferred(_ string, paths []string) error {
	for _, p := range paths {
		if err := syncFile(p); err != nil {
			return err
		}
	}
	return nil
}

// deferredPaths says whether syncDeferred needs the paths it makes
// durable.
const deferredPaths = true
