package flysim

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
)

// All IDs come from the sim's seeded generator so a seed reproduces a fleet.

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// ulidLike returns a 26-char Crockford base32 ID starting "01" like a ULID of
// this decade; it is random rather than time-based so fleets are reproducible.
func ulidLike(r *rand.Rand) string {
	b := make([]byte, 26)
	b[0], b[1] = '0', '1'
	for i := 2; i < 26; i++ {
		b[i] = crockford[r.IntN(32)]
	}
	return string(b)
}

func hexFrom(r *rand.Rand, n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[r.IntN(16)]
	}
	return string(b)
}

// hexID and instanceID draw from s.rng; callers hold s.mu (or are in New).
func (s *Sim) hexID(n int) string    { return hexFrom(s.rng, n) }
func (s *Sim) newInstanceID() string { return ulidLike(s.rng) }

// newMachineID returns an unused 14-hex-digit machine ID like Fly's.
func (s *Sim) newMachineID() string {
	for {
		id := s.hexID(14)
		if _, taken := s.machines[id]; !taken {
			return id
		}
	}
}

var (
	adjectives = []string{"red", "blue", "quiet", "bold", "late", "dry", "young", "still", "wild", "cold", "dark", "proud", "calm", "brave", "small", "green"}
	nouns      = []string{"sun", "river", "leaf", "sky", "moon", "frost", "field", "wave", "stone", "cloud", "wood", "lake", "hill", "snow", "dust", "star"}
)

func (s *Sim) newName() string {
	return fmt.Sprintf("%s-%s-%04d", adjectives[s.rng.IntN(len(adjectives))], nouns[s.rng.IntN(len(nouns))], s.rng.IntN(10000))
}

func (s *Sim) newPrivateIP() string {
	return fmt.Sprintf("fdaa:0:%x:a7b:%x:%x:%x:2", 0x3b1, s.rng.IntN(0xffff), s.rng.IntN(0xffff), s.rng.IntN(0xffff))
}

// hashHex derives stable hex (e.g. image digests) from a string.
func hashHex(s string, n int) string {
	sum := sha256.Sum256([]byte(s))
	h := hex.EncodeToString(sum[:])
	for len(h) < n {
		h += h
	}
	return h[:n]
}
