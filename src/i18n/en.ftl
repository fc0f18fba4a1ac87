# Soloist's messages in English, the catalog every other one is checked
# against (src/i18n/tests.rs): a translation has every message here, with
# the same variables.
#
# Messages whose id ends in -html are HTML: their markup is kept as it is
# written here and their variables are escaped. All others are plain text
# (the HTML templates escape them as a whole).
#
# Variables every mail has: $site (the site's name), $site_url, $sign_in_url,
# $reset_url and $security_url; each message adds its own facts.

## Mail: shared

mail-hello = Hello,
mail-hello-name = Hello { $name },
mail-button-fallback = If the button does not work, open this link:
mail-sign-in-button = Sign in
mail-reset-my-password-button = Reset my password
mail-open-link-button = Open the link

## Mail: confirming an address

mail-verify-email-subject = Confirm your email address for { $site }
mail-verify-email-ask-text = Please confirm your email address by opening this link:
mail-verify-email-ask-html = Please confirm your email address.
mail-verify-email-button = Confirm my email
mail-verify-email-expiry = The link works for 24 hours. If you did not ask for this, ignore this message.

## Mail: a sign-up with an address that has an account

mail-already-registered-subject = Someone tried to create a { $site } account with your address
mail-already-registered-body = Someone (perhaps you) tried to create an account with this address, but you already have one.
mail-already-registered-sign-in-text = Sign in: { $sign_in_url }
mail-already-registered-forgot-text = Forgot your password? { $reset_url }
mail-already-registered-forgot-html = Forgot your password? <a href="{ $reset_url }">Choose a new one</a>.
mail-already-registered-not-you = If it was not you, you can ignore this message.

## Mail: a password reset link

mail-reset-password-subject = Reset your { $site } password
mail-reset-password-intro-text = To choose a new password, open this link:
mail-reset-password-intro-html = To choose a new password, use the button below.
mail-reset-password-button = Choose a new password
mail-reset-password-expiry = It works for one hour and only once. If you did not ask for this, ignore this message: your password stays as it is.

## Mail: a password was reset

mail-password-changed-subject = Your { $site } password was changed
mail-password-changed-body = Your password was just reset, and every device was signed out.
mail-password-changed-not-you-text = If this was not you, reset it again at { $reset_url } and contact us.
mail-password-changed-not-you-html = If this was not you, reset it again and contact us.

## Mail: a sign-in link

mail-magic-link-subject = Your { $site } sign-in link
mail-magic-link-intro-text = Open this link to sign in:
mail-magic-link-intro-html = Use the button below to sign in.
mail-magic-link-expiry = It works for 15 minutes and only once. If you did not ask for it, ignore this message.

## Mail: a link to choose a first password

mail-choose-password-subject = Choose a password for { $site }
mail-choose-password-intro-text = To choose a password for your account, open this link:
mail-choose-password-intro-html = To choose a password for your account, use the button below.
mail-choose-password-button = Choose a password
mail-choose-password-expiry-text = It works for one hour and only once. Choosing it signs out every session. If you did not ask for this, someone may be using your account: sign out every session at { $security_url }.
mail-choose-password-expiry-html = It works for one hour and only once. Choosing it signs out every session. If you did not ask for this, someone may be using your account: <a href="{ $security_url }">sign out every session</a>.

## Mail: an email change to an address that has its own account

mail-address-taken-subject = Someone tried to move a { $site } account to your address
mail-address-taken-body = Someone signed in to another { $site } account asked to change its address to this one. This address already has its own account, so nothing was changed, and there is nothing for you to do.

## Mail: to the old address, after an email change

mail-email-changed-subject = Your { $site } email address was changed
mail-email-changed-body-text = The email address of your account was changed to { $new_email }.
mail-email-changed-body-html = The email address of your account was changed to <strong>{ $new_email }</strong>.
mail-email-changed-not-you-text = If you did not do this, reset your password at { $reset_url } and contact us.
mail-email-changed-not-you-html = If you did not do this, reset your password and contact us.

## Mail: a sign-in provider connected to an account

mail-provider-connected-subject = { $provider } was connected to your { $site } account
mail-provider-connected-body = A { $provider } account with your address can now sign in to your { $site } account.
mail-provider-connected-not-you-text = If this was not you, reset your password at { $reset_url } and sign out every session at { $security_url }.
mail-provider-connected-not-you-html = If this was not you, reset your password and <a href="{ $security_url }">sign out every session</a>.
