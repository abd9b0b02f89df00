<?php
// install.php: run by start.sh as www-data (PHP CLI, code on stdin) to install
// WordPress non-interactively and create an application password, printed
// as LASTMILE_APP_PASSWORD=… on stdout. Inputs come from the environment.
$u = parse_url(getenv("LM_URL"));
$_SERVER["HTTP_HOST"] = $u["host"] . ":" . $u["port"];
$_SERVER["SERVER_NAME"] = $u["host"];
$_SERVER["SERVER_PORT"] = $u["port"];
$_SERVER["REQUEST_URI"] = "/";
$_SERVER["WORDPRESS_CONFIG"] = getenv("WORDPRESS_CONFIG");
define("WP_INSTALLING", true);
// No sendmail here: the install notification is skipped.
function wp_new_blog_notification() {}
function wp_mail() { return true; }
require "/usr/share/wordpress/wp-load.php";
require_once ABSPATH . "wp-admin/includes/upgrade.php";
$user = getenv("LM_USER");
if (!is_blog_installed()) {
	$r = wp_install("lastmile integration tests", $user, $user . "@example.invalid", false, "", getenv("LM_PASS"));
	$uid = $r["user_id"];
} else {
	$wpu = get_user_by("login", $user);
	if (!$wpu) { fwrite(STDERR, "WordPress is installed but has no user $user\n"); exit(1); }
	$uid = $wpu->ID;
}
update_option("permalink_structure", "/%postname%/");
delete_option("rewrite_rules");
update_option("blog_public", "0");
if (!wp_is_application_passwords_available()) { fwrite(STDERR, "application passwords are not available\n"); exit(1); }
foreach (WP_Application_Passwords::get_user_application_passwords($uid) as $item) {
	if ($item["name"] === "lastmile-it") { WP_Application_Passwords::delete_application_password($uid, $item["uuid"]); }
}
$created = WP_Application_Passwords::create_new_application_password($uid, array("name" => "lastmile-it"));
if (is_wp_error($created)) { fwrite(STDERR, $created->get_error_message() . "\n"); exit(1); }
echo "LASTMILE_APP_PASSWORD=" . $created[0] . "\n";
