package activedemand

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// RoutesFile is the name of the admin's corrections to the route table, in
// Parley's data folder (README: "ActiveDEMAND endpoints").
const RoutesFile = "activedemand-routes.toml"

// RoutesFromDir returns the route table for the data folder dir: the
// defaults, corrected by its RoutesFile when there is one, and that file's
// path ("" when there is none). A file that is there but wrong is an error
// naming it, never a silent fall back to the defaults.
func RoutesFromDir(dir string) (Routes, string, error) {
	path := filepath.Join(dir, RoutesFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return DefaultRoutes(), "", nil
	}
	routes, err := LoadRoutes(path)
	if err != nil {
		return Routes{}, path, err
	}
	return routes, path, nil
}
