package restauth

import (
	"net/http/httptest"
	"testing"
)

func TestAdmin(t *testing.T) {
	for _, tc := range []struct {
		user, pass string
		set, want  bool
	}{
		{"Administrator", "password", true, true},
		{"Administrator", "wrong", true, false},
		{"other", "password", true, false},
		{"", "", true, false},
		{"", "", false, false},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if tc.set {
			r.SetBasicAuth(tc.user, tc.pass)
		}
		if got := Admin(r, "Administrator", "password"); got != tc.want {
			t.Errorf("Admin(%q, %q, set %v) = %v, want %v", tc.user, tc.pass, tc.set, got, tc.want)
		}
	}
}
