package store

import "path/filepath"

// DemoSubdir is the folder inside the data folder that demo mode uses.
const DemoSubdir = "demo"

// ModeDir is the folder the database, media and logs of a mode live in:
// real accounts use the data folder itself, demo mode a folder of its own
// inside it. Demo and real data never share a database, so leaving demo
// mode needs no wipe, and going back to the demo finds it as it was.
func ModeDir(dataDir string, demo bool) string {
	if demo {
		return filepath.Join(dataDir, DemoSubdir)
	}
	return dataDir
}
