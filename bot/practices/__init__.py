"""The good-practice database, platform-neutral: field checks (`fields`), the operations
(`service`), English versions (`english`), announcements (`announce`), export and import
(`export`) and the `icc-bot practices` command line (`cli`)."""
