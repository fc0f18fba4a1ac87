# Soloists Texte auf Deutsch. Jede Nachricht aus en.ftl steht auch hier, mit
# denselben Variablen (src/i18n/tests.rs prüft das). Anrede: „Sie“.
#
# Nachrichten, deren Id auf -html endet, sind HTML: ihr Markup bleibt, wie
# es hier steht, ihre Variablen werden maskiert. Alle anderen sind Text.

## Mail: gemeinsam

mail-hello = Hallo,
mail-hello-name = Hallo { $name },
mail-button-fallback = Falls die Schaltfläche nicht funktioniert, öffnen Sie diesen Link:
mail-sign-in-button = Anmelden
mail-reset-my-password-button = Mein Passwort zurücksetzen
mail-open-link-button = Link öffnen

## Mail: eine Adresse bestätigen

mail-verify-email-subject = Bestätigen Sie Ihre E-Mail-Adresse für { $site }
mail-verify-email-ask-text = Bitte bestätigen Sie Ihre E-Mail-Adresse, indem Sie diesen Link öffnen:
mail-verify-email-ask-html = Bitte bestätigen Sie Ihre E-Mail-Adresse.
mail-verify-email-button = E-Mail-Adresse bestätigen
mail-verify-email-expiry = Der Link ist 24 Stunden gültig. Falls Sie das nicht angefordert haben, ignorieren Sie diese Nachricht.

## Mail: Registrierung mit einer Adresse, die schon ein Konto hat

mail-already-registered-subject = Jemand wollte mit Ihrer Adresse ein Konto bei { $site } anlegen
mail-already-registered-body = Jemand (vielleicht Sie) wollte mit dieser Adresse ein Konto anlegen, aber Sie haben bereits eines.
mail-already-registered-sign-in-text = Anmelden: { $sign_in_url }
mail-already-registered-forgot-text = Passwort vergessen? { $reset_url }
mail-already-registered-forgot-html = Passwort vergessen? <a href="{ $reset_url }">Wählen Sie ein neues</a>.
mail-already-registered-not-you = Falls Sie das nicht waren, können Sie diese Nachricht ignorieren.

## Mail: ein Link zum Zurücksetzen des Passworts

mail-reset-password-subject = Setzen Sie Ihr Passwort für { $site } zurück
mail-reset-password-intro-text = Um ein neues Passwort zu wählen, öffnen Sie diesen Link:
mail-reset-password-intro-html = Um ein neues Passwort zu wählen, nutzen Sie die Schaltfläche unten.
mail-reset-password-button = Neues Passwort wählen
mail-reset-password-expiry = Der Link ist eine Stunde gültig und funktioniert nur einmal. Falls Sie das nicht angefordert haben, ignorieren Sie diese Nachricht: Ihr Passwort bleibt, wie es ist.

## Mail: ein Passwort wurde zurückgesetzt

mail-password-changed-subject = Ihr Passwort für { $site } wurde geändert
mail-password-changed-body = Ihr Passwort wurde soeben zurückgesetzt, und alle Geräte wurden abgemeldet.
mail-password-changed-not-you-text = Falls Sie das nicht waren, setzen Sie es unter { $reset_url } erneut zurück und kontaktieren Sie uns.
mail-password-changed-not-you-html = Falls Sie das nicht waren, setzen Sie es erneut zurück und kontaktieren Sie uns.

## Mail: ein Anmeldelink

mail-magic-link-subject = Ihr Anmeldelink für { $site }
mail-magic-link-intro-text = Öffnen Sie diesen Link, um sich anzumelden:
mail-magic-link-intro-html = Nutzen Sie die Schaltfläche unten, um sich anzumelden.
mail-magic-link-expiry = Der Link ist 15 Minuten gültig und funktioniert nur einmal. Falls Sie ihn nicht angefordert haben, ignorieren Sie diese Nachricht.

## Mail: ein Link, um ein erstes Passwort zu wählen

mail-choose-password-subject = Wählen Sie ein Passwort für { $site }
mail-choose-password-intro-text = Um ein Passwort für Ihr Konto zu wählen, öffnen Sie diesen Link:
mail-choose-password-intro-html = Um ein Passwort für Ihr Konto zu wählen, nutzen Sie die Schaltfläche unten.
mail-choose-password-button = Passwort wählen
mail-choose-password-expiry-text = Der Link ist eine Stunde gültig und funktioniert nur einmal. Wenn Sie ein Passwort wählen, werden alle Sitzungen abgemeldet. Falls Sie das nicht angefordert haben, nutzt vielleicht jemand Ihr Konto: Melden Sie unter { $security_url } alle Sitzungen ab.
mail-choose-password-expiry-html = Der Link ist eine Stunde gültig und funktioniert nur einmal. Wenn Sie ein Passwort wählen, werden alle Sitzungen abgemeldet. Falls Sie das nicht angefordert haben, nutzt vielleicht jemand Ihr Konto: <a href="{ $security_url }">Melden Sie alle Sitzungen ab</a>.

## Mail: Wechsel zu einer Adresse, die ein eigenes Konto hat

mail-address-taken-subject = Jemand wollte ein Konto bei { $site } auf Ihre Adresse umstellen
mail-address-taken-body = Jemand, der in einem anderen Konto bei { $site } angemeldet ist, wollte dessen E-Mail-Adresse in diese ändern. Diese Adresse hat bereits ein eigenes Konto; deshalb wurde nichts geändert, und Sie müssen nichts tun.

## Mail: an die alte Adresse, nach einem Wechsel der E-Mail-Adresse

mail-email-changed-subject = Ihre E-Mail-Adresse für { $site } wurde geändert
mail-email-changed-body-text = Die E-Mail-Adresse Ihres Kontos wurde in { $new_email } geändert.
mail-email-changed-body-html = Die E-Mail-Adresse Ihres Kontos wurde in <strong>{ $new_email }</strong> geändert.
mail-email-changed-not-you-text = Falls Sie das nicht waren, setzen Sie Ihr Passwort unter { $reset_url } zurück und kontaktieren Sie uns.
mail-email-changed-not-you-html = Falls Sie das nicht waren, setzen Sie Ihr Passwort zurück und kontaktieren Sie uns.

## Mail: ein Anmeldedienst wurde mit einem Konto verbunden

mail-provider-connected-subject = { $provider } wurde mit Ihrem Konto bei { $site } verbunden
mail-provider-connected-body = Mit einem { $provider }-Konto, das Ihre Adresse nutzt, kann man sich jetzt bei Ihrem Konto bei { $site } anmelden.
mail-provider-connected-not-you-text = Falls Sie das nicht waren, setzen Sie Ihr Passwort unter { $reset_url } zurück und melden Sie unter { $security_url } alle Sitzungen ab.
mail-provider-connected-not-you-html = Falls Sie das nicht waren, setzen Sie Ihr Passwort zurück und <a href="{ $security_url }">melden Sie alle Sitzungen ab</a>.
