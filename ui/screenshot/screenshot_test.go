package screenshot

import (
	"errors"
	"image"
	"image/color"
	"image/draw"
	"path/filepath"
	"testing"
)

func uniform(w, h int, c color.Color) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(c), image.Point{}, draw.Src)
	return img
}

// The check must refuse what a window that never drew looks like, and
// accept the console's real picture.
func TestBlank(t *testing.T) {
	dark := color.RGBA{0x17, 0x17, 0x18, 0xff}
	black := uniform(1100, 720, color.Black)
	twoTone := uniform(1100, 720, dark)
	draw.Draw(twoTone, image.Rect(0, 0, 1100, 30), image.NewUniform(color.White), image.Point{}, draw.Src)
	// Hundreds of colours, all in one corner: the rest is background.
	specks := uniform(1100, 720, dark)
	for i := range 300 {
		specks.Set(i%20, i/20, color.RGBA{uint8(i), uint8(i >> 8), 0x80, 0xff})
	}
	drawn, err := Load(filepath.Join("..", "..", "docs", "console.png"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		img    image.Image
		limits Limits
		blank  bool
	}{
		{"black", black, Window, true},
		{"one colour", uniform(1100, 720, dark), Window, true},
		{"background and a white bar", twoTone, Window, true},
		{"many colours in one corner", specks, Window, true},
		{"no pixels", image.NewRGBA(image.Rectangle{}), Window, true},
		{"the console's README picture", drawn, Window, false},
		{"a screen's area, one colour", uniform(890, 600, dark), Content, true},
		{"a screen's area, many colours in one corner", specks, Content, true},
		{"the README picture's screen area", drawn.(interface {
			SubImage(image.Rectangle) image.Image
		}).SubImage(image.Rect(207, 76, 1096, 672)), Content, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Blank(tc.img, tc.limits)
			if got := errors.Is(err, ErrBlank); got != tc.blank {
				t.Fatalf("Blank = %v (%+v), want blank %v", err, Measure(tc.img), tc.blank)
			}
		})
	}
}

func TestManifestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	want := Manifest{Screens: []Screen{{Title: "Sync", File: FileName("Sync"), Content: image.Rect(200, 80, 1100, 690), Settled: true}}}
	if err := WriteManifest(dir, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Screens) != 1 || got.Screens[0] != want.Screens[0] {
		t.Fatalf("read %+v, wrote %+v", got, want)
	}
	if FileName("Sync") != "sync.png" {
		t.Fatalf("FileName(Sync) = %q", FileName("Sync"))
	}
}

func TestSaveLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "deep", "a.png")
	img := uniform(4, 3, color.White)
	if err := Save(path, img); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Bounds() != img.Bounds() {
		t.Fatalf("loaded %v, saved %v", back.Bounds(), img.Bounds())
	}
}
