/* Writes the files mapped into this process (from /proc/self/maps) to stderr, one
 * "MAP <path>" line each, once: the test compares them with what the bundle should load. */
#ifndef BUNDLE_MAPS_H
#define BUNDLE_MAPS_H
void maps_report(void);
#endif
