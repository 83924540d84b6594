"""Server-side security state: one-use captcha challenges and TOTP recovery codes."""

from flask_appbuilder import Model
from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String

from .common import created_at


class CaptchaChallenge(Model):
    """An issued captcha: the session holds only ``id`` (random); the row is deleted on its first check,
    right or wrong, so a copied cookie can never pass the captcha again (any number of workers)."""

    __tablename__ = "captcha_challenge"
    id = Column(String(43), primary_key=True)
    digest = Column(String(64), nullable=False)
    expires_at = Column(DateTime, nullable=False)

    __table_args__ = (Index("ix_captcha_challenge_expires_at", "expires_at"),)


class TotpRecoveryCode(Model):
    """A single-use recovery code of a user's second factor, stored as a SHA-256 hash (the code has
    80 random bits, shown once at enrolment)."""

    __tablename__ = "totp_recovery_code"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True)
    code_hash = Column(String(64), nullable=False)
    used_at = Column(DateTime)
    created = created_at()
