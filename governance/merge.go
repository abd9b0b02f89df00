package governance

// Merge combines the reports of separate Check calls (one per document, say,
// so a caller can cache them) into the report one Check over all the
// documents would give.
func Merge(reports ...Report) Report {
	var all []Finding
	for _, r := range reports {
		all = append(all, r.Findings...)
	}
	return newReport(all)
}
