/*
 * noavahi.c - LD_PRELOAD shim for the webdav flavour of the test guest.
 * spice-webdavd announces its port over mDNS (avahi-gobject's ga_client_start)
 * and exits when no avahi-daemon answers; the guest has no D-Bus or avahi, and
 * the tests reach the port directly, so the announcement is made a no-op.
 */
int ga_client_start(void *client, void **error);

int ga_client_start(void *client, void **error)
{
    (void)client;
    (void)error;
    return 1;
}
