// One-time passwords for new host entries. ipa-join sends the password in a simple LDAP bind and
// on the command line of ipa-client-install, so only letters and digits are used.
import { randomInt } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** 32 characters from 62 carry 32 * log2(62) = 190 bits of entropy. */
export const OTP_LENGTH = 32;

/** A fresh one-time password from the system's CSPRNG, without modulo bias. */
export function generateOtp(): string {
  let otp = '';
  for (let i = 0; i < OTP_LENGTH; i++) {
    otp += ALPHABET[randomInt(ALPHABET.length)];
  }

  return otp;
}
