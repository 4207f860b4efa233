package tracker

import (
	"net/url"
	"strings"
)

// Redact returns the part of a tracker URL that may appear in logs and error messages: its
// scheme, host and path. The query (a private tracker's passkey, and in an announce our
// peer_id and key), user info and fragment are dropped: a failed announce used to log the
// whole request, about 400 characters of it secret or noise.
func Redact(u string) string {
	pu, err := url.Parse(u)
	if err != nil || pu.Host == "" {
		// Keep what cannot be a secret: the text before any query.
		before, _, _ := strings.Cut(u, "?")
		if i := strings.LastIndex(before, "@"); i >= 0 {
			before = before[i+1:]
		}
		return before
	}
	return (&url.URL{Scheme: pu.Scheme, Host: pu.Host, Path: pu.Path}).String()
}
