package main

// Send windows and recipient time zones load IANA zones by name
// (sandbox.SendWindow, the contacts' timezone property). Windows has no
// zone database of its own and a minimal container may lack one; the
// embedded copy (about 450 KB) makes the same name mean the same zone on
// every machine.
import _ "time/tzdata"
