package handler

import (
	"encoding/json"
	"regexp"
	"strings"
)

// Redacted replaces what a log line must never show.
const Redacted = "[REDACTED]"

// secretKeys are the keys of a CodePipeline job event whose values are credentials: the
// temporary artifact credentials (accessKeyId, secretAccessKey, sessionToken) every job
// carries, and the continuation token, which lets a caller resume the job. Compared
// case-insensitively.
var secretKeys = map[string]bool{
	"artifactcredentials": true, "accesskeyid": true, "secretaccesskey": true,
	"sessiontoken": true, "continuationtoken": true,
}

// secretInText finds the same keys' string values in text that is not valid JSON.
var secretInText = regexp.MustCompile(`(?i)("(?:accessKeyId|secretAccessKey|sessionToken|continuationToken)"\s*:\s*)"(?:[^"\\]|\\.)*"?`)

// RedactEvent returns the event as text safe to log, at most n bytes: every credential in
// it replaced by Redacted. A valid JSON event is rewritten value by value (the whole
// artifactCredentials object goes); anything else is redacted by pattern, and a value cut
// off by the size limit is dropped rather than shown in part.
func RedactEvent(raw []byte, n int) string {
	var v any
	if err := json.Unmarshal(raw, &v); err == nil {
		if b, err := json.Marshal(redact(v)); err == nil {
			return limit(string(b), n)
		}
	}
	s := secretInText.ReplaceAllString(string(raw), `${1}"`+Redacted+`"`)
	// A secret whose closing quote lies beyond the cut is caught above by the optional
	// quote; a key cut in half at the end is dropped with everything after it.
	s = limit(s, n)
	if i := strings.LastIndex(strings.ToLower(s), `"`); i >= 0 && strings.Count(s[i:], `"`) == 1 && looksLikeSecretKey(s[:i]) {
		s = s[:i] + "…"
	}
	return s
}

// looksLikeSecretKey reports whether the text ends in a secret key and a colon, i.e. what
// follows would be its value.
func looksLikeSecretKey(prefix string) bool {
	p := strings.ToLower(strings.TrimRight(prefix, " \t\n:"))
	for k := range secretKeys {
		if strings.HasSuffix(p, `"`+k+`"`) {
			return true
		}
	}
	return false
}

func redact(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if secretKeys[strings.ToLower(k)] {
				x[k] = Redacted
				continue
			}
			x[k] = redact(val)
		}
		return x
	case []any:
		for i := range x {
			x[i] = redact(x[i])
		}
		return x
	default:
		return v
	}
}
