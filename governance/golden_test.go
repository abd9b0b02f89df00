package governance_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/governance"
)

// Set LASTMILE_UPDATE_GOLDEN=1 to rewrite the golden files after an
// intended change; review the diff like code.
const updateGoldenEnv = "LASTMILE_UPDATE_GOLDEN"

// campaignFile is a sample campaign: documents as the sandbox would pass
// them, with long HTML kept in files beside it.
type campaignFile struct {
	Description string `json:"description"`
	Documents   []struct {
		governance.Document
		Fields []struct {
			governance.Field
			File string `json:"file"`
		} `json:"fields"`
	} `json:"documents"`
}

func loadCampaign(t *testing.T, path string) []governance.Document {
	t.Helper()
	var cf campaignFile
	dec := json.NewDecoder(bytes.NewReader(readFile(t, path)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cf); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var docs []governance.Document
	for _, d := range cf.Documents {
		doc := d.Document
		doc.Fields = nil
		for _, f := range d.Fields {
			if f.File != "" {
				f.Value = string(readFile(t, filepath.Join(filepath.Dir(path), f.File)))
			}
			doc.Fields = append(doc.Fields, f.Field)
		}
		docs = append(docs, doc)
	}
	return docs
}

// TestGolden checks every sample campaign against the sample policy and
// compares the report, with its approval requirement, to a golden file.
func TestGolden(t *testing.T) {
	p := loadSample(t)
	files, err := filepath.Glob("../testdata/governance/campaigns/*.json")
	if err != nil || len(files) < 3 {
		t.Fatalf("sample campaigns: %v %v", files, err)
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		t.Run(name, func(t *testing.T) {
			docs := loadCampaign(t, path)
			in := governance.ApprovalInput{MaxRecipients: 0}
			for _, d := range docs {
				in.Markets = append(in.Markets, d.Markets...)
				in.Industry = d.Industry
				in.Channels = append(in.Channels, d.Channel)
				in.MaxRecipients = max(in.MaxRecipients, d.Recipients)
			}
			out := struct {
				PolicyHash string                 `json:"policy_hash"`
				Report     governance.Report      `json:"report"`
				Approvals  governance.Requirement `json:"approvals"`
			}{p.Hash(), p.Check(docs), p.Approvals(in)}
			got, err := json.MarshalIndent(out, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := filepath.Join("../testdata/governance/golden", name+".json")
			if os.Getenv(updateGoldenEnv) != "" {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with %s=1 to create it)", err, updateGoldenEnv)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("report differs from %s (run with %s=1 to update, then review the diff):\n%s", golden, updateGoldenEnv, got)
			}
		})
	}
}
