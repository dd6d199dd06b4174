// Package appcheck holds no code: its tests validate the Splunk app's content (the .conf files,
// lookups, dashboards, the inputs.conf spec and the package that scripts/package.sh builds), so
// a broken reference fails `make test` instead of a Splunk search.
package appcheck
