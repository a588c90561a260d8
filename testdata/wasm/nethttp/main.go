// Command nethttp is a large real Go module for the module checks: it links
// net/http, crypto/tls, text/template, encoding/json and encoding/xml, the
// way a task using a cloud SDK would, so the module limits can be measured
// against it. It serves one request in memory and prints the response.
package main

import (
	"crypto/tls"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"text/template"
)

func main() {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "hello") })
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	_ = json.NewEncoder(os.Stdout).Encode(rec.Body.String())
	_ = template.Must(template.New("t").Parse("{{.}}\n")).Execute(os.Stdout, tls.VersionName(tls.VersionTLS13))
	_ = xml.NewEncoder(os.Stdout).Encode(struct{ A int }{1})
	fmt.Println(regexp.MustCompile("l+").FindString("hello"))
}
