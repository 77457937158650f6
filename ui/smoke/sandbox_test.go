package smoke

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSandboxCommand runs `parley sandbox` as a user would: it must print
// both addresses with working credentials, answer real API requests with
// the seeded demo business, and stop cleanly on Ctrl+C.
func TestSandboxCommand(t *testing.T) {
	bin := binary(t)
	cmd := exec.Command(bin, "sandbox", "--data-dir", t.TempDir())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var printed strings.Builder
	deadline := time.After(60 * time.Second)
	for !strings.Contains(printed.String(), "Serving until interrupted") {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("parley sandbox ended early:\n%s\n%s", printed.String(), stderr.String())
			}
			printed.WriteString(l + "\n")
		case <-deadline:
			t.Fatalf("parley sandbox printed no addresses in 60 s:\n%s\n%s", printed.String(), stderr.String())
		}
	}
	out := printed.String()
	field := func(re string) string {
		t.Helper()
		m := regexp.MustCompile(re).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("output has no match for %s:\n%s", re, out)
		}
		return m[1]
	}
	ghlURL := field(`HighLevel sandbox\s+(http://127\.0\.0\.1:\d+)`)
	location := field(`location id\s+(\S+)`)
	token := field(`private token\s+(\S+)`)
	adURL := field(`ActiveDEMAND sandbox\s+(http://127\.0\.0\.1:\d+\S*)`)
	appKey := field(`application key\s+(\S+)`)
	apiKey := field(`account API key\s+(\S+)`)

	get := func(url string, header map[string]string, into any) {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %s", url, resp.Status)
		}
		if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
	}
	var search struct {
		Conversations []json.RawMessage `json:"conversations"`
		Total         int               `json:"total"`
	}
	get(ghlURL+"/conversations/search?locationId="+location,
		map[string]string{"Authorization": "Bearer " + token, "Version": "2021-04-15"}, &search)
	if search.Total == 0 || len(search.Conversations) == 0 {
		t.Errorf("the HighLevel sandbox has no demo conversations: total %d", search.Total)
	}
	var contacts []json.RawMessage
	get(strings.TrimSuffix(adURL, "/")+"/contacts.json",
		map[string]string{"X-Application-Api-Key": appKey, "x-api-key": apiKey}, &contacts)
	if len(contacts) == 0 {
		t.Error("the ActiveDEMAND sandbox has no demo contacts")
	}

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for range lines {
		}
		done <- cmd.Wait()
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("parley sandbox did not exit cleanly on interrupt: %v\n%s", err, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("parley sandbox still running 15 s after an interrupt")
	}
}

// A routes file with a mistake must stop `parley sandbox` and `parley sync`
// with a message that names the file, not be ignored.
func TestBadRoutesFileIsReported(t *testing.T) {
	bin := binary(t)
	for _, command := range []string{"sandbox", "sync"} {
		t.Run(command, func(t *testing.T) {
			dataDir := t.TempDir()
			routes := filepath.Join(dataDir, "activedemand-routes.toml")
			if err := os.WriteFile(routes, []byte("[routes.\"messages.lst\"]\npath = \"x.json\"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bin, command, "--data-dir", dataDir)
			cmd.Env = append(os.Environ(), "DISPLAY=")
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("parley %s accepted a routes file with an unknown route:\n%s", command, out)
			}
			if !strings.Contains(string(out), routes) || !strings.Contains(string(out), "messages.lst") {
				t.Errorf("the error does not name the file and the entry:\n%s", out)
			}
		})
	}
}
