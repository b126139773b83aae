package http

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
)

// openAPIYAML is the API's OpenAPI 3 document, written by hand beside the
// handlers; TestOpenAPIMatchesTheRoutes keeps the two in step.
//
//go:embed openapi/openapi.yaml
var openAPIYAML []byte

// LoadOpenAPI parses and validates the embedded OpenAPI document.
func LoadOpenAPI() (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(openAPIYAML)
	if err != nil {
		return nil, fmt.Errorf("openapi document: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi document: %w", err)
	}
	return doc, nil
}

// registerOpenAPIRoute serves the document as JSON at /openapi.json.
func (s *Server) registerOpenAPIRoute() error {
	doc, err := LoadOpenAPI()
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("openapi document: %w", err)
	}
	s.handle("GET /openapi.json", RolePublic, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	})
	return nil
}
