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
// artifactCredentials object goes); anything else is redacted by pattern.
func RedactEvent(raw []byte, n int) string {
	var v any
	if err := json.Unmarshal(raw, &v); err == nil {
		if b, err := json.Marshal(redact(v)); err == nil {
			return limit(string(b), n)
		}
	}
	// Redacted before it is cut to length, so the cut cannot reveal anything; a secret whose
	// closing quote is missing (an event that was itself cut short) is caught by the
	// pattern's optional quote.
	return limit(secretInText.ReplaceAllString(string(raw), `${1}"`+Redacted+`"`), n)
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
