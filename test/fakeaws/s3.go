package fakeaws

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// s3Service names S3 in Call and in the fault handling. S3 speaks REST-XML: the operation
// is the method and the path, not a header, so the fake tells an S3 request by its
// signature's service (SigV4 scope .../<region>/s3/aws4_request).
const s3Service = "S3"

// Object is an S3 object as GetObject and HeadObject answer it.
type Object struct {
	Body []byte
	// Metadata is the user-defined metadata, x-amz-meta-<key>: <value>.
	Metadata map[string]string
	// ContentType. Default: - binary/octet-stream, as S3's.
	ContentType string
	// Modified is its Last-Modified. Default: - ImagePushedAt.
	Modified time.Time
}

// SetObject makes the bucket exist with the object at key (path-style requests:
// /<bucket>/<key>). A nil body with an empty key only makes the bucket exist.
func (s *Server) SetObject(bucket, key string, o Object) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.objects == nil {
		s.objects = map[string]map[string]Object{}
	}
	if s.objects[bucket] == nil {
		s.objects[bucket] = map[string]Object{}
	}
	if key != "" {
		s.objects[bucket][key] = o
	}
}

// s3Request says whether r is an S3 request, and which operation: GetObject (GET) or
// HeadObject (HEAD) of /<bucket>/<key>; Input has its Bucket and Key.
func s3Request(r *http.Request) (op string, input map[string]any, ok bool) {
	_, rest, _ := strings.Cut(r.Header.Get("Authorization"), "Credential=")
	parts := strings.SplitN(rest, "/", 5)
	if len(parts) < 4 || parts[3] != "s3" {
		return "", nil, false
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	switch r.Method {
	case http.MethodGet:
		op = "GetObject"
	case http.MethodHead:
		op = "HeadObject"
	default:
		op = r.Method + "Object"
	}
	return op, map[string]any{"Bucket": bucket, "Key": key}, true
}

// s3 answers GetObject and HeadObject from the objects SetObject set; a missing bucket or key
// is S3's 404 (NoSuchBucket, NoSuchKey; a HEAD's error has no body).
func (s *Server) s3(w http.ResponseWriter, r *http.Request, c Call) {
	if c.Op != "GetObject" && c.Op != "HeadObject" {
		writeS3Error(w, r, Fault{Status: http.StatusNotImplemented, Code: "NotImplemented", Message: "fakeaws does not implement " + c.Op})
		return
	}
	bucket, key := c.Input["Bucket"].(string), c.Input["Key"].(string)
	s.mu.Lock()
	objects, bucketExists := s.objects[bucket]
	o, exists := objects[key]
	s.mu.Unlock()
	switch {
	case !bucketExists:
		writeS3Error(w, r, Fault{Status: http.StatusNotFound, Code: "NoSuchBucket", Message: "The specified bucket does not exist"})
		return
	case !exists:
		writeS3Error(w, r, Fault{Status: http.StatusNotFound, Code: "NoSuchKey", Message: "The specified key does not exist."})
		return
	}
	h := w.Header()
	for k, v := range o.Metadata {
		h.Set("x-amz-meta-"+k, v)
	}
	ct := o.ContentType
	if ct == "" {
		ct = "binary/octet-stream"
	}
	modified := o.Modified
	if modified.IsZero() {
		modified = ImagePushedAt
	}
	h.Set("Content-Type", ct)
	h.Set("Content-Length", strconv.Itoa(len(o.Body)))
	h.Set("Last-Modified", modified.UTC().Format(http.TimeFormat))
	h.Set("ETag", fmt.Sprintf(`"%x"`, len(o.Body)))
	h.Set("x-amz-server-side-encryption", "aws:kms")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(o.Body)
	}
}

// writeS3Error is an error in S3's REST-XML shape; a HEAD's answer is the status alone.
func writeS3Error(w http.ResponseWriter, r *http.Request, f Fault) {
	if r.Method == http.MethodHead {
		w.WriteHeader(f.Status)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(f.Status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message><Resource>%s</Resource><RequestId>req-1</RequestId></Error>`,
		html.EscapeString(f.Code), html.EscapeString(f.Message), html.EscapeString((&url.URL{Path: r.URL.Path}).String()))
}
