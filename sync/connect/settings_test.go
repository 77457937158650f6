package connect_test

import (
	"testing"

	"parley/store/secrets"
	"parley/sync/connect"
)

// Demo mode connects the sandboxes with their own vault and prefixed
// settings: the real accounts' settings are untouched.
func TestDemoSettingsDoNotTouchTheRealOnes(t *testing.T) {
	shared := &memSettings{}
	real, err := connect.New(connect.Options{Vault: &secrets.Memory{}, Settings: shared})
	if err != nil {
		t.Fatal(err)
	}
	demo, err := connect.New(connect.Options{Vault: &secrets.Memory{}, Settings: connect.Prefixed{Settings: shared, Prefix: "demo."}})
	if err != nil {
		t.Fatal(err)
	}
	if err := real.SaveProviderID("real-provider"); err != nil {
		t.Fatal(err)
	}
	if err := demo.SaveProviderID("demo-provider"); err != nil {
		t.Fatal(err)
	}
	if err := demo.SetPort(40001); err != nil {
		t.Fatal(err)
	}
	st, err := real.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.GHL.ProviderID != "real-provider" || st.GHL.Port != connect.DefaultPort {
		t.Errorf("the demo's settings reached the real ones: %+v", st.GHL)
	}
	if st, _ := demo.Status(t.Context()); st.GHL.ProviderID != "demo-provider" || st.GHL.Port != 40001 {
		t.Errorf("demo status %+v", st.GHL)
	}
}
