package model

import "testing"

func TestImageTag(t *testing.T) {
	for _, tc := range []struct{ image, tag, label string }{
		{"registry.fly.io/app:app.v62-3-ga38cb23a", "app.v62-3-ga38cb23a", "v62-3-ga38cb23a"},
		{"registry.fly.io/app:locksmith-api.v62-3-ga38cb23a", "locksmith-api.v62-3-ga38cb23a", "v62-3-ga38cb23a"},
		{"registry.fly.io/app:v62-3-ga38cb23a", "v62-3-ga38cb23a", "v62-3-ga38cb23a"},
		{"registry.fly.io/app:deployment-01HXABCDEF", "deployment-01HXABCDEF", "deployment-01HXABCDEF"},
		{"registry.fly.io/app:app.v62@sha256:0123abcd", "app.v62", "v62"},
		{"registry.fly.io/app@sha256:0123abcd", "", ""},
		{"localhost:5000/team/app:1.2.3", "1.2.3", "1.2.3"},
		{"localhost:5000/team/app", "", ""},
		{"nginx", "", ""},
		{"", "", ""},
	} {
		if got := ImageTag(tc.image); got != tc.tag {
			t.Errorf("ImageTag(%q) = %q, want %q", tc.image, got, tc.tag)
		}
		if got := LabelFromImage(tc.image); got != tc.label {
			t.Errorf("LabelFromImage(%q) = %q, want %q", tc.image, got, tc.label)
		}
	}
}

func TestChooseTarget(t *testing.T) {
	oldOnly := []Machine{
		{ID: "a", Image: imgV61, ReleaseVersion: 61},
		{ID: "b", Image: imgV60, ReleaseVersion: 60},
	}
	for _, tc := range []struct {
		name        string
		flag        string
		releases    []Release
		machines    []Machine
		image       string
		source      TargetSource
		releaseVers int // 0: no release
	}{
		{"flag wins", imgV60, testReleases, oldOnly, imgV60, TargetFromFlag, 60},
		{"flag unknown to releases", "registry.fly.io/app:hotfix", testReleases, oldOnly, "registry.fly.io/app:hotfix", TargetFromFlag, 0},
		{"newest release even when no machine runs it", "", testReleases, oldOnly, imgV62, TargetFromReleases, 62},
		{"releases without images fall through", "", []Release{{Version: 9}}, oldOnly, imgV61, TargetFromMachines, 0},
		{"machines: highest release version", "", nil, oldOnly, imgV61, TargetFromMachines, 0},
		{"machines with digest match releases", "", []Release{{Version: 1}}, []Machine{{ID: "a", Image: imgV62 + "@sha256:ff", ReleaseVersion: 62}}, imgV62, TargetFromMachines, 0},
		{"none", "", nil, []Machine{{ID: "a"}}, "", TargetNone, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ChooseTarget(tc.flag, tc.releases, tc.machines)
			if got.Image != tc.image || got.Source != tc.source {
				t.Fatalf("got %q from %s, want %q from %s", got.Image, got.Source, tc.image, tc.source)
			}
			switch {
			case tc.releaseVers == 0 && got.Release != nil:
				t.Errorf("Release = v%d, want none", got.Release.Version)
			case tc.releaseVers != 0 && (got.Release == nil || got.Release.Version != tc.releaseVers):
				t.Errorf("Release = %+v, want v%d", got.Release, tc.releaseVers)
			}
			if got.Image != "" && got.Tag != ImageTag(got.Image) {
				t.Errorf("Tag = %q", got.Tag)
			}
		})
	}
}

func TestChooseTargetTieIsDeterministic(t *testing.T) {
	a := []Machine{{ID: "1", Image: "r/app:b", ReleaseVersion: 5}, {ID: "2", Image: "r/app:a", ReleaseVersion: 5}}
	b := []Machine{a[1], a[0]}
	if x, y := ChooseTarget("", nil, a), ChooseTarget("", nil, b); x.Image != y.Image || x.Image != "r/app:a" {
		t.Fatalf("tie broke differently: %q vs %q", x.Image, y.Image)
	}
}
