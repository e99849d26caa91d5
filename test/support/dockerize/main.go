// Renders a template the way dockerize does in the temporalio/server image's entrypoint
// (`dockerize -template config_template.yaml:docker.yaml`): Go's text/template with sprig's functions
// and dockerize's own over them (its `default` takes the value first and the default second, and only an
// unset variable gets the default), `.Env` being the environment. dockerize itself is not on the Go
// module proxy this project builds from, so test/integration/compose.test.ts builds this instead; the
// functions below are dockerize's (github.com/jwilder/dockerize, template.go), minus jsonQuery and loop,
// which Temporal's template does not use.
//
//	dockerize-render TEMPLATE DEST
package main

import (
	"fmt"
	"log"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
)

type context struct{}

func (context) Env() map[string]string {
	env := map[string]string{}
	for _, pair := range os.Environ() {
		name, value, _ := strings.Cut(pair, "=")
		env[name] = value
	}
	return env
}

func defaultValue(args ...any) (string, error) {
	if len(args) == 0 {
		return "", fmt.Errorf("default called with no values")
	}
	if s, ok := args[0].(string); ok && args[0] != nil {
		return s, nil
	}
	if len(args) > 1 {
		if s, ok := args[1].(string); ok {
			return s, nil
		}
		return "", fmt.Errorf("default is not a string value, hint: surround it with double quotes")
	}
	return "", fmt.Errorf("default called with no default value")
}

func exists(path string) (bool, error) {
	_, err := os.Stat(path)
	if err == nil {
		return true, nil
	}
	if os.IsNotExist(err) {
		return false, nil
	}
	return false, err
}

func isTrue(s string) bool {
	switch strings.ToLower(s) {
	case "true", "1", "yes", "on":
		return true
	}
	b, err := strconv.ParseBool(strings.ToLower(s))
	return err == nil && b
}

func main() {
	if len(os.Args) != 3 {
		log.Fatal("usage: dockerize-render TEMPLATE DEST")
	}
	source, dest := os.Args[1], os.Args[2]
	funcs := sprig.TxtFuncMap()
	own := template.FuncMap{
		"contains": func(item map[string]string, key string) bool { _, ok := item[key]; return ok },
		"exists":   exists,
		"split":    strings.Split,
		"replace":  strings.Replace,
		"default":  defaultValue,
		"parseUrl": func(raw string) (*url.URL, error) { return url.Parse(raw) },
		"atoi":     strconv.Atoi,
		"add":      func(a, b int) int { return a + b },
		"isTrue":   isTrue,
		"lower":    strings.ToLower,
		"upper":    strings.ToUpper,
	}
	for name, fn := range own {
		funcs[name] = fn
	}
	tmpl, err := template.New(filepath.Base(source)).Funcs(funcs).ParseFiles(source)
	if err != nil {
		log.Fatalf("unable to parse template %s: %s", source, err)
	}
	out, err := os.Create(dest)
	if err != nil {
		log.Fatal(err)
	}
	defer out.Close()
	if err := tmpl.ExecuteTemplate(out, filepath.Base(source), context{}); err != nil {
		log.Fatalf("template error %s: %s", source, err)
	}
}
