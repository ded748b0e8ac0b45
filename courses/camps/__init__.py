"""Training camps (训练营): terms and seats, check-ins (打卡) including make-up check-ins (补卡), moderation
and teacher reviews (点评), leaderboards, posters and certificates, and the daily check-in reminders."""
