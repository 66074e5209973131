package restauth

import (
	"errors"
	"net/http/httptest"
	"testing"
)

func TestAuthenticate_Admin(t *testing.T) {
	creds := NewAdmin("Administrator", "password")
	for _, tc := range []struct {
		user, pass string
		set        bool
		want       error
	}{
		{"Administrator", "password", true, nil},
		{"Administrator", "wrong", true, ErrInvalidLogin},
		{"other", "password", true, ErrInvalidLogin},
		{"Administrator", "", true, ErrInvalidLogin},
		{"", "password", true, ErrNoCredentials},
		{"", "", true, ErrNoCredentials},
		{"", "", false, ErrNoCredentials},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if tc.set {
			r.SetBasicAuth(tc.user, tc.pass)
		}
		id, err := Authenticate(r, creds)
		if !errors.Is(err, tc.want) || (err != nil) != (tc.want != nil) {
			t.Errorf("Authenticate(%q, %q, set %v) = %v, want %v", tc.user, tc.pass, tc.set, err, tc.want)
		}
		if err == nil && id.User != tc.user {
			t.Errorf("Authenticate(%q, %q) identity %q, want %q", tc.user, tc.pass, id.User, tc.user)
		}
	}
}
