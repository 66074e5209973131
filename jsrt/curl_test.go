package jsrt

import "testing"

func TestCurl_PathClamp(t *testing.T) {
	for _, tc := range []struct{ base, path, want string }{
		{"/get", "../..", "/get"},
		{"/get", "/a/b", "/get/a/b"},
		{"/get/", "a/./b/../c/", "/get/a/c/"},
		{"", "../x", "/x"},
		{"", "", "/"},
		{"/a/b", "../../../b", "/a/b/b"},
	} {
		if got := clampPath(tc.base, tc.path); got != tc.want {
			t.Errorf("clampPath(%q, %q) = %q, want %q", tc.base, tc.path, got, tc.want)
		}
	}
}
