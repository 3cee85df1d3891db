package flyclient

import (
	"errors"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	RegisterSecret("FlyV1 fm2_lJPECAAAAAAAAMo6xBC5secretpart1,fm2_lJPEsecondpart2")
	RegisterSecret("plain-test-token-1234")
	cases := []string{
		"echo: Authorization: FlyV1 fm2_lJPECAAAAAAAAMo6xBC5secretpart1,fm2_lJPEsecondpart2",
		"bare fm2_lJPEsecondpart2 here",
		`{"error":"bad","auth":"Bearer plain-test-token-1234"}`,
		"the token plain-test-token-1234 alone",
		"some other macaroon fm1r_abcDEF123+/= and oauth fo1_xyzXYZ0987654",
		"bearer someunknowntoken",
	}
	for _, c := range cases {
		got := Redact(c)
		for _, bad := range []string{"secretpart1", "secondpart2", "plain-test-token-1234", "abcDEF123", "xyzXYZ0987654", "someunknowntoken"} {
			if strings.Contains(got, bad) {
				t.Errorf("Redact(%q) = %q still holds %q", c, got, bad)
			}
		}
		if !strings.Contains(got, redacted) {
			t.Errorf("Redact(%q) = %q: nothing marked", c, got)
		}
	}
	if got := Redact("machine 3d8d413b29d089 is replacing"); got != "machine 3d8d413b29d089 is replacing" {
		t.Errorf("ordinary text changed: %q", got)
	}
	base := &Error{Kind: ErrServer, Op: "update", Message: "echo Bearer plain-test-token-1234"}
	err := RedactError(base)
	if strings.Contains(err.Error(), "plain-test-token-1234") || !errors.Is(err, ErrServer) {
		t.Errorf("RedactError: %v (is server: %v)", err, errors.Is(err, ErrServer))
	}
}
