// Package assets holds the images Parley ships inside its binary, so that a
// single executable is all a user needs to install.
package assets

import (
	_ "embed"
	"fmt"

	"fyne.io/fyne/v2"
	"github.com/BurntSushi/toml"
)

//go:embed icon.png
var iconPNG []byte

// Icon is the application icon, used for the window, the taskbar and the
// About dialog. assets/icon.svg is its source; `make icon` renders the PNG.
var Icon = fyne.NewStaticResource("icon.png", iconPNG)

// Metadata reads the app's identity from FyneApp.toml, which main embeds
// (a package cannot embed a file above its folder) and `fyne package` reads.
func Metadata(fyneAppTOML []byte) (fyne.AppMetadata, error) {
	var file struct {
		Details struct {
			ID, Name, Version string
			Build             int
		}
	}
	if err := toml.Unmarshal(fyneAppTOML, &file); err != nil {
		return fyne.AppMetadata{}, fmt.Errorf("read the embedded FyneApp.toml: %w", err)
	}
	d := file.Details
	return fyne.AppMetadata{ID: d.ID, Name: d.Name, Version: d.Version, Build: d.Build, Icon: Icon}, nil
}
