package tools_test

import "testing"

// create_email's send_window and recipient_time_zone reach the sandbox,
// and a wrong window is a tool error naming every wrong field.
func TestCreateEmailSendWindow(t *testing.T) {
	h := newHarness(t)
	cmp := h.newCampaign(t, "Windows")
	seg := str(t, h.stage(t, "build_segment", segmentArgs(cmp)), "id")
	args := with(emailArgs(cmp), "audience", obj{"include": []string{seg}}, "send_at", "2027-03-02T09:00:00+01:00")
	mustToolError(t, h.call(t, "create_email", with(args, "send_window", obj{"start": "9", "end": "17:00", "days": []string{"monday"}})),
		"send_window.start", "send_window.days[0]", "send_window.time_zone")
	h.stage(t, "create_email", with(args, "recipient_time_zone", true, "send_window", obj{"start": "09:00", "end": "17:00", "days": []string{"mon", "tue"}}))
}
