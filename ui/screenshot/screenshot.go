// Package screenshot holds what the console's screen pictures share between
// the console, which takes them (PARLEY_SCREENSHOTS, see ui/screenshots.go),
// and the smoke test, which checks them: the test for a blank picture, and
// the manifest that says which file shows which screen and where on it the
// screen's own content is.
//
// It draws nothing and needs no display, so the smoke test and unit tests
// use it without Fyne.
package screenshot

import (
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
)

// What the console and its smoke test agree on.
const (
	// Env names the folder the console writes a picture of every screen
	// to before quitting; unset, it runs as usual.
	Env = "PARLEY_SCREENSHOTS"
	// WaitEnv bounds how long the console waits for the demo's sync to
	// settle before the pictures, as a Go duration ("90s"); "0s" takes
	// them at once.
	WaitEnv = "PARLEY_SCREENSHOTS_WAIT"
	// FirstFrameMessage is what the console logs once its window shows
	// its first drawn frame, with "after", the time since it started.
	FirstFrameMessage = "console drew its first frame"
)

// Limits say how little a picture may show and still count as drawn.
type Limits struct {
	// MinColours is the fewest distinct colours it may have.
	MinColours int
	// MaxDominant is the largest share of its pixels one colour may
	// cover: a window painted only with its background, with a few specks
	// of anything else, is blank all the same.
	MaxDominant float64
}

// A drawn Fyne window has hundreds of colours (anti-aliased text and icons
// alone bring dozens) and its background covers at most about 95 % of it
// (the Alerts screen with no alerts); a window whose frame never arrived
// has one or two colours. A screen's own area, header included, has fewer
// colours and may be nearly all background when it has nothing to list
// (98.6 % for Alerts), hence looser limits.
var (
	// Window is the limits of a whole console window.
	Window = Limits{MinColours: 100, MaxDominant: 0.985}
	// Content is the limits of the area of one screen's own content.
	Content = Limits{MinColours: 24, MaxDominant: 0.995}
)

// ErrBlank is matched by the error of a picture that shows nothing.
var ErrBlank = errors.New("the picture is blank")

// Stats are what Blank measures of a picture.
type Stats struct {
	// Colours is how many distinct RGB colours it has.
	Colours int
	// Dominant is the share of its pixels that have its commonest colour.
	Dominant float64
}

// Measure counts img's colours and its commonest colour's share.
func Measure(img image.Image) Stats {
	b := img.Bounds()
	if b.Empty() {
		return Stats{Dominant: 1}
	}
	seen := make(map[uint32]int)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[(r>>8)<<16|(g>>8)<<8|bl>>8]++
		}
	}
	most := 0
	for _, n := range seen {
		most = max(most, n)
	}
	return Stats{Colours: len(seen), Dominant: float64(most) / float64(b.Dx()*b.Dy())}
}

// Blank returns an error wrapping ErrBlank when img shows less than
// limits allow; nil when it shows something.
func Blank(img image.Image, limits Limits) error {
	s := Measure(img)
	switch {
	case s.Colours < limits.MinColours:
		return fmt.Errorf("%w: %d colours, a drawn one has at least %d", ErrBlank, s.Colours, limits.MinColours)
	case s.Dominant > limits.MaxDominant:
		return fmt.Errorf("%w: one colour covers %.1f%% of it", ErrBlank, 100*s.Dominant)
	}
	return nil
}

// ManifestFile is the manifest's name in a folder of screen pictures.
const ManifestFile = "screens.json"

// Manifest lists the pictures of one run, in navigation order.
type Manifest struct {
	Screens []Screen `json:"screens"`
	// Guide is the setup guide's first step over the demo, as a first
	// start shows it; empty when the console had no accounts to set up.
	Guide string `json:"guide,omitempty"`
}

// GuideFile is the setup guide's picture in the folder.
const GuideFile = "guide-activedemand.png"

// Screen is one screen's picture.
type Screen struct {
	// Title is the screen's title in the navigation.
	Title string `json:"title"`
	// File is the picture's name in the folder: FileName(Title).
	File string `json:"file"`
	// Content is where the screen's own content is in the picture, in
	// pixels; the rest is the window's menu, navigation and status line.
	Content image.Rectangle `json:"content"`
	// Settled is false when the screen was still changing when it was
	// taken (a live chart, a blinking cursor), which is not an error.
	Settled bool `json:"settled"`
}

// FileName is the picture file of the screen titled title.
func FileName(title string) string {
	return strings.ToLower(strings.ReplaceAll(title, " ", "-")) + ".png"
}

// Save writes img as a PNG file, through a temporary file so that a
// reader never sees half a picture.
func Save(path string, img image.Image) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".screen-*.png")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // #nosec G104 -- gone already once renamed
	if err := png.Encode(tmp, img); err != nil {
		tmp.Close() // #nosec G104 -- the write failed already; that error is the one to report
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}

// Load reads a PNG file.
func Load(path string) (image.Image, error) {
	f, err := os.Open(path) // #nosec G304 -- a picture the caller names
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return img, nil
}

// WriteManifest saves m in dir.
func WriteManifest(dir string, m Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, ManifestFile), append(b, '\n'), 0o600)
}

// ReadManifest reads the manifest of dir.
func ReadManifest(dir string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile)) // #nosec G304 -- a folder the caller names
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("read %s: %w", filepath.Join(dir, ManifestFile), err)
	}
	return m, nil
}
