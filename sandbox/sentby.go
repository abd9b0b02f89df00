package sandbox

import (
	"slices"
	"sort"
)

// sentByWorkflows maps each email artifact to the workflows among arts
// whose steps send it (sorted ids), so that a target can tell an email a
// workflow sends from one only broadcast: some platforms need a different
// object for each use (HubSpot: a regular email for a broadcast, an
// automated one for a workflow's send step). Workflows being retired, or
// retired and left so, send nothing and are left out. revs holds the
// revision of each artifact the plan covers.
func sentByWorkflows(arts []*Artifact, revs map[string]*Revision) map[string][]string {
	out := map[string][]string{}
	for _, a := range arts {
		r := revs[a.ID]
		if a.Kind != KindWorkflow || r == nil || r.Workflow == nil || a.Retire != nil || retiredUnchanged(a) {
			continue
		}
		for _, st := range r.Workflow.Steps {
			if st.Type == "send_email" && st.EmailID != "" && !slices.Contains(out[st.EmailID], a.ID) {
				out[st.EmailID] = append(out[st.EmailID], a.ID)
			}
		}
	}
	for _, ids := range out {
		sort.Strings(ids)
	}
	return out
}
