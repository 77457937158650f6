//go:build !wayland

package display

// waylandBuild is false: by default Fyne's GLFW draws through X11 only, so
// a Wayland session needs XWayland's $DISPLAY.
const waylandBuild = false
