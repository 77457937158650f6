//go:build wayland

package display

// waylandBuild is true when Fyne's GLFW was built for Wayland (-tags wayland).
const waylandBuild = true
