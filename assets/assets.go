// Package assets holds the images Parley ships inside its binary, so that a
// single executable is all a user needs to install.
package assets

import (
	_ "embed"

	"fyne.io/fyne/v2"
)

//go:embed icon.png
var iconPNG []byte

// Icon is the application icon, used for the window, the taskbar and the
// About dialog. assets/icon.svg is its source; `make icon` renders the PNG.
var Icon = fyne.NewStaticResource("icon.png", iconPNG)
